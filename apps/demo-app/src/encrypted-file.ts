import { RialtoError } from "@rialto/protocol";
import type { JwkSet } from "./encrypted-clip.ts";
import { type KeyMaterial, licenseOf } from "./key-material.ts";
import { COMMON_SYSTEM_ID, type DemuxedMovie } from "./mp4/index.ts";
import { plainSegment, type SegmentOf } from "./sample-feeder.ts";

/** What the ClearKey license flow of an app needs to obtain the keys of a movie. */
export interface LicensePlan {
  /**
   * `cenc`: the file's common-system `pssh` boxes; `keyids`: `{"kids":[...]}` JSON naming the
   * key ids of its `tenc` boxes, when it has no common-system `pssh` (e.g. PlayReady/Widevine only).
   */
  readonly initDataType: "cenc" | "keyids";
  readonly initData: Uint8Array;
  /** The JWK set the demo's license server holds. */
  readonly license: JwkSet;
  /** Every key id (hex) the samples use: each must be `usable` after the update. */
  readonly keyIds: readonly string[];
}

/** An encrypted movie to play: its license plan and how its samples become segments. */
export interface EncryptedMedia extends LicensePlan {
  /** `cenc` or `cbcs` (the first encrypted track's). */
  readonly scheme: string;
  /** Segments naming `keySessionId` for the encrypted samples, plain ones for a clear lead. */
  segmentsFor(keySessionId: number): SegmentOf;
}

const base64url = (bytes: Uint8Array) =>
  bytes.toBase64({ alphabet: "base64url", omitPadding: true });

/**
 * The license plan and segments of an encrypted movie demuxed from a file, with the keys the
 * user gave (`--key`, `--keys`).
 *
 * @throws RialtoError `INVALID_ARGUMENT` when no key was given for a key id the samples use.
 */
export function encryptedFileMedia(movie: DemuxedMovie, material: KeyMaterial): EncryptedMedia {
  const keyIds = [...new Set(movie.tracks.flatMap((t) => t.keyIds))];
  const missing = keyIds.filter((id) => !material.has(id));
  if (missing.length > 0) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `no key given for key id ${missing.join(", ")}: add --key ${missing[0]}:<32 hex digits> or --keys FILE`,
    );
  }
  const common = movie.pssh.filter((p) => p.systemId === COMMON_SYSTEM_ID);
  const initData =
    common.length > 0
      ? new Uint8Array(common.flatMap((p) => [...p.box]))
      : new TextEncoder().encode(
          JSON.stringify({ kids: keyIds.map((id) => base64url(Uint8Array.fromHex(id))) }),
        );
  return {
    initDataType: common.length > 0 ? "cenc" : "keyids",
    initData,
    license: licenseOf(material, keyIds),
    keyIds,
    scheme: movie.tracks.find((t) => t.scheme !== undefined)?.scheme ?? "cenc",
    segmentsFor: (keySessionId) => (sample, track) => {
      const segment = plainSegment(sample, track);
      const { encryption } = sample;
      return encryption === undefined
        ? segment
        : { ...segment, encryption: { ...encryption, keySessionId } };
    },
  };
}
