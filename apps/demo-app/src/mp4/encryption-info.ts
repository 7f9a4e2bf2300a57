import { type Box, BoxCursor, findBox, mp4Error } from "./box-reader.ts";

/** Clear bytes followed by encrypted bytes, one pair of a sample's subsample map. */
export interface Subsample {
  readonly clearBytes: number;
  readonly encryptedBytes: number;
}

/** How one sample is encrypted (ISO/IEC 23001-7), without the key session it is played with. */
export interface SampleEncryptionInfo {
  /** `cenc` (AES-128-CTR) or `cbcs` (AES-128-CBC with a pattern). */
  readonly cipherMode: "cenc" | "cbcs";
  /** The 16-byte key id (the track's `tenc` default). */
  readonly keyId: Uint8Array;
  /** The per-sample IV (8 or 16 bytes), or the constant IV of `tenc` (cbcs). */
  readonly iv: Uint8Array;
  /** Clear/encrypted pairs; empty when the whole sample is encrypted. */
  readonly subsamples: readonly Subsample[];
  /** cbcs: crypt and skip 16-byte blocks (`tenc` version 1); absent for cenc. */
  readonly pattern?: { readonly cryptByteBlock: number; readonly skipByteBlock: number };
}

/** The track encryption defaults (`tenc`, ISO/IEC 23001-7 section 8.2). */
export interface TrackEncryptionDefaults {
  readonly isProtected: boolean;
  /** 0 (constant IV), 8 or 16. */
  readonly perSampleIvSize: number;
  readonly keyId: Uint8Array;
  readonly cryptByteBlock: number;
  readonly skipByteBlock: number;
  /** With `perSampleIvSize` 0: the IV of every sample. */
  readonly constantIv?: Uint8Array;
}

/** One `pssh` box: its system id, the key ids it names (version 1) and the whole box. */
export interface ProtectionSystemHeader {
  /** 32 lowercase hex digits, e.g. `1077efecc0b24d02ace33c1e52e2fb4b` (the common system). */
  readonly systemId: string;
  readonly keyIds: readonly Uint8Array[];
  /** The whole box, header included: `cenc` init data for `generateRequest`. */
  readonly box: Uint8Array;
}

/** The W3C common system id (ISO/IEC 23001-7 `pssh` listing key ids, used by ClearKey). */
export const COMMON_SYSTEM_ID = "1077efecc0b24d02ace33c1e52e2fb4b";

const hex = (bytes: Uint8Array) => bytes.toHex();

/** Reads a `tenc` box. */
export function readTenc(file: string, bytes: Uint8Array, box: Box): TrackEncryptionDefaults {
  const c = new BoxCursor(file, bytes, box);
  const { version } = c.fullBoxHeader();
  c.skip(1);
  const pattern = c.u8();
  const isProtected = c.u8();
  const perSampleIvSize = c.u8();
  const keyId = c.bytesView(16);
  if (isProtected > 1) throw c.invalid(`isProtected ${isProtected}`);
  if (![0, 8, 16].includes(perSampleIvSize)) {
    throw c.invalid(`a per-sample IV size of ${perSampleIvSize} (0, 8 or 16 expected)`);
  }
  let constantIv: Uint8Array | undefined;
  if (isProtected === 1 && perSampleIvSize === 0) {
    const size = c.u8();
    if (size !== 8 && size !== 16) throw c.invalid(`a constant IV of ${size} bytes`);
    constantIv = c.bytesView(size);
  }
  return {
    isProtected: isProtected === 1,
    perSampleIvSize,
    keyId,
    cryptByteBlock: version === 0 ? 0 : pattern >> 4,
    skipByteBlock: version === 0 ? 0 : pattern & 0xf,
    ...(constantIv === undefined ? {} : { constantIv }),
  };
}

/** Reads a `pssh` box (ISO/IEC 23001-7 section 8.1). */
export function readPssh(file: string, bytes: Uint8Array, box: Box): ProtectionSystemHeader {
  const c = new BoxCursor(file, bytes, box);
  const { version } = c.fullBoxHeader();
  const systemId = hex(c.bytesView(16));
  const keyIds: Uint8Array[] = [];
  if (version > 0) {
    const count = c.u32();
    if (count * 16 > c.remaining) throw c.invalid(`${count} key ids`);
    for (let i = 0; i < count; i++) keyIds.push(c.bytesView(16));
  }
  const size = c.u32();
  c.bytesView(size);
  return { systemId, keyIds, box: bytes.subarray(box.start, box.end) };
}

/** One sample's auxiliary information: its IV and subsamples (senc entry or saiz/saio data). */
export interface AuxiliaryInfo {
  readonly iv: Uint8Array;
  readonly subsamples: readonly Subsample[];
}

function readAuxiliaryEntry(c: BoxCursor, ivSize: number, withSubsamples: boolean): AuxiliaryInfo {
  const iv = c.bytesView(ivSize);
  const subsamples: Subsample[] = [];
  if (withSubsamples) {
    const count = c.u16();
    if (count * 6 > c.remaining) throw c.invalid(`${count} subsamples`);
    for (let i = 0; i < count; i++) {
      subsamples.push({ clearBytes: c.u16(), encryptedBytes: c.u32() });
    }
  }
  return { iv, subsamples };
}

/**
 * Reads a `senc` box (ISO/IEC 23001-7 section 7.2) whose IVs are `ivSize` bytes (0 with a
 * constant IV). Its entry count must equal `sampleCount` when given.
 */
export function readSenc(
  file: string,
  bytes: Uint8Array,
  box: Box,
  ivSize: number,
  sampleCount?: number,
): AuxiliaryInfo[] {
  const c = new BoxCursor(file, bytes, box);
  const { flags } = c.fullBoxHeader();
  const count = c.u32();
  if (sampleCount !== undefined && count !== sampleCount) {
    throw c.invalid(`${count} entries for ${sampleCount} samples`);
  }
  // An entry takes at least a byte of the file unless it is empty (constant IV, no subsamples):
  // no file holds more samples than bytes, and a count beyond that would only spin.
  if (count * ivSize > c.remaining || count > bytes.byteLength) {
    throw c.invalid(`${count} entries of ${ivSize}-byte IVs`);
  }
  const entries: AuxiliaryInfo[] = [];
  for (let i = 0; i < count; i++) entries.push(readAuxiliaryEntry(c, ivSize, (flags & 2) !== 0));
  if (c.remaining !== 0) throw c.invalid(`${c.remaining} bytes after its ${count} entries`);
  return entries;
}

/** Reads `saiz`: the size of each sample's auxiliary information. */
export function readSaiz(file: string, bytes: Uint8Array, box: Box): number[] {
  const c = new BoxCursor(file, bytes, box);
  const { flags } = c.fullBoxHeader();
  if (flags & 1) c.skip(8);
  const defaultSize = c.u8();
  const count = c.u32();
  if (defaultSize !== 0) {
    if (count * defaultSize > bytes.byteLength)
      throw c.invalid(`${count} sizes of ${defaultSize} bytes`);
    return Array.from({ length: count }, () => defaultSize);
  }
  if (count > c.remaining) throw c.invalid(`${count} sizes`);
  return Array.from({ length: count }, () => c.u8());
}

/** Reads `saio`: the offsets of the auxiliary information (one, or one per chunk). */
export function readSaio(file: string, bytes: Uint8Array, box: Box): number[] {
  const c = new BoxCursor(file, bytes, box);
  const { version, flags } = c.fullBoxHeader();
  if (flags & 1) c.skip(8);
  const count = c.u32();
  if (count * (version === 0 ? 4 : 8) > c.remaining) throw c.invalid(`${count} offsets`);
  return Array.from({ length: count }, () => (version === 0 ? c.u32() : c.u64()));
}

/**
 * The auxiliary information that `saiz`/`saio` point at: `sizes.length` entries stored one after
 * the other from `offset` (a single-offset saio, what every fragmented packager writes).
 */
export function readAuxiliaryAt(
  file: string,
  bytes: Uint8Array,
  offset: number,
  sizes: readonly number[],
  ivSize: number,
): AuxiliaryInfo[] {
  const entries: AuxiliaryInfo[] = [];
  let at = offset;
  for (const [index, size] of sizes.entries()) {
    if (at < 0 || at + size > bytes.byteLength) {
      throw mp4Error(file, `has auxiliary information of sample ${index} outside the file`);
    }
    const box: Box = { type: "saio", start: at, payloadStart: at, end: at + size };
    const c = new BoxCursor(file, bytes, box);
    entries.push(readAuxiliaryEntry(c, ivSize, size > ivSize));
    if (c.remaining !== 0)
      throw c.invalid(`${c.remaining} bytes after the entry of sample ${index}`);
    at += size;
  }
  return entries;
}

/**
 * The auxiliary information of `count` samples among `boxes` (an `stbl` or a `traf`): the `senc`
 * entries, else what `saiz` + `saio` point at (`saio` offsets count from `base`: 0 in a movie
 * box, the fragment's base data offset in a `traf`). Undefined when there is neither.
 */
export function readAuxiliaryBoxes(
  file: string,
  bytes: Uint8Array,
  boxes: readonly Box[],
  base: number,
  ivSize: number,
  count: number,
): AuxiliaryInfo[] | undefined {
  const senc = findBox(boxes, "senc");
  if (senc !== undefined) return readSenc(file, bytes, senc, ivSize, count);
  const saiz = findBox(boxes, "saiz");
  const saio = findBox(boxes, "saio");
  if (saiz === undefined || saio === undefined) return undefined;
  const sizes = readSaiz(file, bytes, saiz);
  const [offset] = readSaio(file, bytes, saio);
  if (typeof sizes === "number" || offset === undefined) return undefined;
  if (sizes.length !== count) {
    throw mp4Error(file, `has a saiz box of ${sizes.length} entries for ${count} samples`);
  }
  return readAuxiliaryAt(file, bytes, base + offset, sizes, ivSize);
}
