import { RialtoError } from "@rialto/protocol";
import { type Box, createFile, MP4BoxBuffer } from "mp4box";

/** How one sample of a `cenc` track is encrypted (ISO/IEC 23001-7), without its key session. */
export interface CencSampleEncryption {
  readonly cipherMode: "cenc";
  /** The track's default key id (`tenc`), 16 bytes. */
  readonly keyId: Uint8Array;
  /** The sample's IV from `senc` (8 or 16 bytes). */
  readonly iv: Uint8Array;
  /** Clear/encrypted byte pairs; empty when the whole sample is encrypted. */
  readonly subsamples: readonly { readonly clearBytes: number; readonly encryptedBytes: number }[];
}

/** One encrypted sample: its bytes as stored (a view of the file) and how to decrypt them. */
export interface EncryptedSample {
  readonly data: Uint8Array;
  readonly encryption: CencSampleEncryption;
}

function invalid(name: string, problem: string): RialtoError {
  return new RialtoError("INVALID_ARGUMENT", `demuxEncryptedMp4: "${name}" ${problem}`);
}

function childBoxes(box: Box): Box[] {
  const { boxes, entries } = box as { boxes?: Box[]; entries?: Box[] };
  return [...(boxes ?? []), ...(entries ?? [])];
}

function findBox(name: string, root: Box, type: string): Box {
  const stack = [root];
  for (let box = stack.pop(); box !== undefined; box = stack.pop()) {
    if (box.type === type) return box;
    stack.push(...childBoxes(box));
  }
  throw invalid(name, `has no ${type} box under ${root.type}`);
}

/** Reads a `senc` body (ISO/IEC 23001-7 section 7.2) with the IV size `tenc` gives. */
function readSenc(name: string, senc: Box, ivSize: number, keyId: Uint8Array) {
  const { data, flags } = senc as unknown as { data?: Uint8Array; flags: number };
  if (data === undefined) throw invalid(name, "has a senc box without a body");
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const entries: CencSampleEncryption[] = [];
  try {
    const count = view.getUint32(0);
    let at = 4;
    for (let index = 0; index < count; index++) {
      if (at + ivSize > data.byteLength) throw new RangeError(`IV of sample ${index}`);
      const iv = data.slice(at, at + ivSize);
      at += ivSize;
      const subsamples: { clearBytes: number; encryptedBytes: number }[] = [];
      if (flags & 2) {
        const subsampleCount = view.getUint16(at);
        at += 2;
        for (let s = 0; s < subsampleCount; s++) {
          subsamples.push({
            clearBytes: view.getUint16(at),
            encryptedBytes: view.getUint32(at + 2),
          });
          at += 6;
        }
      }
      entries.push({ cipherMode: "cenc", keyId, iv, subsamples });
    }
    if (at !== data.byteLength) throw new RangeError(`${data.byteLength - at} bytes left over`);
  } catch (error) {
    throw invalid(name, `has a malformed senc box (${(error as Error).message})`);
  }
  return entries;
}

/**
 * The samples of every track of a CENC-encrypted (`cenc` scheme) MP4, by track id, each with
 * the encryption its `senc` entry and its track's `tenc` give (IV, subsamples, default key
 * id). Sample bytes are views of `bytes`. Other schemes, missing boxes, or a `senc` that does
 * not match the samples are INVALID_ARGUMENT naming the file.
 */
export function demuxEncryptedMp4(
  bytes: Uint8Array,
  name = "(bytes)",
): Map<number, EncryptedSample[]> {
  const file = createFile();
  const buffer = new MP4BoxBuffer(bytes.byteLength);
  new Uint8Array(buffer).set(bytes);
  buffer.fileStart = 0;
  file.appendBuffer(buffer, true);
  file.flush();
  const tracks = new Map<number, EncryptedSample[]>();
  for (const track of file.getInfo().tracks) {
    const trak = file.getTrackById(track.id) as unknown as Box;
    const scheme = (findBox(name, trak, "schm") as Box & { scheme_type: string }).scheme_type;
    if (scheme !== "cenc")
      throw invalid(name, `track ${track.id} uses scheme "${scheme}", not cenc`);
    const tenc = findBox(name, trak, "tenc") as Box & {
      default_Per_Sample_IV_Size: number;
      default_KID: string;
    };
    const keyId = Uint8Array.fromHex(tenc.default_KID.replaceAll("-", ""));
    const entries = readSenc(
      name,
      findBox(name, trak, "senc"),
      tenc.default_Per_Sample_IV_Size,
      keyId,
    );
    const samples = file.getTrackSamplesInfo(track.id);
    if (entries.length !== samples.length) {
      throw invalid(
        name,
        `track ${track.id} has ${samples.length} samples and ${entries.length} senc entries`,
      );
    }
    tracks.set(
      track.id,
      samples.map((sample, index) => ({
        data: bytes.subarray(sample.offset, sample.offset + sample.size),
        encryption: entries[index] as CencSampleEncryption,
      })),
    );
  }
  return tracks;
}
