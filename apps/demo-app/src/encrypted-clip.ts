import { join } from "node:path";
import { RialtoError } from "@rialto/protocol";
import keyFile from "../media/encrypted/key.json";
import type { EncryptedMedia } from "./encrypted-file.ts";
import {
  type DemuxedMovie,
  type DemuxedSample,
  demuxEncryptedMp4,
  demuxMp4File,
  type EncryptedSample,
} from "./mp4/index.ts";
import { plainSegment, type SegmentOf } from "./sample-feeder.ts";

const ENCRYPTED_DIR = join(import.meta.dir, "../media/encrypted");

/** Absolute path of the bundled CENC-encrypted clip (`media/encrypted/clip-cenc.mp4`). */
export const ENCRYPTED_CLIP_PATH = join(ENCRYPTED_DIR, keyFile.file);

/** A ClearKey license: a JWK set of `oct` keys, `kid` and `k` in unpadded base64url. */
export interface JwkSet {
  readonly keys: readonly { readonly kty: string; readonly kid: string; readonly k: string }[];
}

/**
 * The bundled encrypted clip with what playing it needs: the clear clip's track layout (codec
 * data, times; the encrypted file's `encv` / `enca` entries are not demuxed) and clear samples
 * (the checksum reference), the encrypted bytes and `senc` / `tenc` information of every
 * sample, the `cenc` init data for `generateRequest` and the license the demo serves.
 */
export interface EncryptedClip extends EncryptedMedia {
  /** The encrypted file. */
  readonly path: string;
  /** The clear file it was made from (`key.json` `clearFile`). */
  readonly clearPath: string;
  /** The clear clip: its samples are what the session server must render after decryption. */
  readonly movie: DemuxedMovie;
  /** The protection scheme, `cenc` (AES-128-CTR with subsamples). */
  readonly scheme: string;
  /** The clip's key id, 32 lowercase hex digits. */
  readonly keyId: string;
  /** `cenc` init data: a version-1 `pssh` box of the common system id naming the key id. */
  readonly cencInitData: Uint8Array;
  /** What the demo's license server holds for this clip. */
  readonly license: JwkSet;
  /** Builds the segments of the clear movie's samples: encrypted bytes naming `keySessionId`. */
  segmentsFor(keySessionId: number): SegmentOf;
}

/**
 * Reads the bundled encrypted clip, its clear original and `key.json`, and pairs every clear
 * sample with its encrypted one (same track, same index: the clip was made with `-c copy`).
 *
 * @throws RialtoError `INVALID_ARGUMENT` when the two files do not have the same samples.
 */
export async function loadEncryptedClip(): Promise<EncryptedClip> {
  const clearPath = join(ENCRYPTED_DIR, keyFile.clearFile);
  const movie = await demuxMp4File(clearPath);
  const tracks = demuxEncryptedMp4(await Bun.file(ENCRYPTED_CLIP_PATH).bytes(), keyFile.file);
  const encryptedOf = new Map<DemuxedSample, EncryptedSample>();
  for (const track of movie.tracks) {
    const encrypted = tracks.get(track.id) ?? [];
    track.samples.forEach((sample, index) => {
      const match = encrypted[index];
      // CTR keeps sizes: another size means another sample, not this one encrypted.
      if (match === undefined || match.data.byteLength !== sample.data.byteLength) {
        throw new RialtoError(
          "INVALID_ARGUMENT",
          `loadEncryptedClip: "${keyFile.file}" track ${track.id} sample ${index} does not match "${keyFile.clearFile}"`,
        );
      }
      encryptedOf.set(sample, match);
    });
  }
  return {
    path: ENCRYPTED_CLIP_PATH,
    clearPath,
    movie,
    scheme: keyFile.scheme,
    keyId: keyFile.keyId,
    cencInitData: Uint8Array.fromBase64(keyFile.cencInitData),
    initDataType: "cenc",
    initData: Uint8Array.fromBase64(keyFile.cencInitData),
    keyIds: [keyFile.keyId],
    license: keyFile.license,
    segmentsFor: (keySessionId) => (sample, track) => {
      const encrypted = encryptedOf.get(sample);
      if (encrypted === undefined) {
        throw new RialtoError(
          "INVALID_ARGUMENT",
          `segmentsFor: no encrypted sample at ${sample.timestampNs} ns of ${track.type} track ${track.id}`,
        );
      }
      return {
        ...plainSegment(sample, track),
        data: encrypted.data,
        encryption: { ...encrypted.encryption, keySessionId },
      };
    },
  };
}
