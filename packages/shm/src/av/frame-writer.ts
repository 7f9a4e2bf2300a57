import { ShmError } from "../errors.ts";
import {
  CIPHER_MODE_CBCS,
  CIPHER_MODE_CENC,
  CRYPTO_CIPHER_MODE,
  CRYPTO_CRYPT_BLOCKS,
  CRYPTO_HEADER_SIZE,
  CRYPTO_IV_LENGTH,
  CRYPTO_KEY_ID_LENGTH,
  CRYPTO_KEY_SESSION_ID,
  CRYPTO_MAX_KEY_ID_LENGTH,
  CRYPTO_MAX_SUBSAMPLES,
  CRYPTO_RESERVED,
  CRYPTO_SKIP_BLOCKS,
  CRYPTO_SUBSAMPLE_COUNT,
  CRYPTO_SUBSAMPLE_SIZE,
  FRAME_DATA_ALIGN,
  FRAME_ENTRY_CODEC_LENGTH,
  FRAME_ENTRY_CODEC_OFFSET,
  FRAME_ENTRY_CRYPTO_LENGTH,
  FRAME_ENTRY_CRYPTO_OFFSET,
  FRAME_ENTRY_DATA_LENGTH,
  FRAME_ENTRY_DATA_OFFSET,
  FRAME_ENTRY_DURATION,
  FRAME_ENTRY_FLAGS,
  FRAME_ENTRY_KIND,
  FRAME_ENTRY_PARAM_1,
  FRAME_ENTRY_PARAM_2,
  FRAME_ENTRY_RESERVED,
  FRAME_ENTRY_SIZE,
  FRAME_ENTRY_SOURCE_ID,
  FRAME_ENTRY_TIMESTAMP,
  FRAME_FLAG_CODEC_DATA,
  FRAME_FLAG_ENCRYPTED,
  FRAME_KIND_AUDIO,
  FRAME_KIND_SUBTITLE,
  FRAME_KIND_VIDEO,
  FRAME_TABLE_CAPACITY_OFFSET,
  FRAME_TABLE_COUNT_OFFSET,
  FRAME_TABLE_HEADER_SIZE,
  FRAME_TABLE_MAGIC,
  FRAME_TABLE_MAGIC_OFFSET,
  FRAME_TABLE_RESERVED_OFFSET,
  FRAME_TABLE_VERSION,
  FRAME_TABLE_VERSION_OFFSET,
} from "../layout.ts";
import { writeInt64 } from "./int64.ts";
import type { FrameEncryption, MediaFrame } from "./media-frame.ts";

/** Result of {@link FrameWriter.write}: written, or the frame does not fit (table or bytes). */
export type FrameWriteResult = "ok" | "no-space";

/** Options of {@link FrameWriter}. */
export interface FrameWriterOptions {
  /** Table capacity: the most frames this request may carry (e.g. 24, or 3 in preroll). */
  readonly maxFrames: number;
}

const MAX_U32 = 0xffff_ffff;

function invalid(message: string): never {
  throw new ShmError("INVALID_ARGUMENT", message);
}

function checkU32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_U32) {
    invalid(`${name} ${value} is not a u32`);
  }
}

function checkU8(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) {
    invalid(`${name} ${value} is not a u8`);
  }
}

function encryptionRecordSize(encryption: FrameEncryption, dataLength: number): number {
  const { cipherMode, keyId, iv, subsamples, pattern } = encryption;
  if (cipherMode !== "cenc" && cipherMode !== "cbcs") {
    invalid(`cipher mode "${cipherMode}" is not cenc or cbcs`);
  }
  checkU32("key session id", encryption.keySessionId);
  if (keyId.byteLength > CRYPTO_MAX_KEY_ID_LENGTH) {
    invalid(`key id of ${keyId.byteLength} bytes is too long`);
  }
  if (iv.byteLength !== 8 && iv.byteLength !== 16) {
    invalid(`IV of ${iv.byteLength} bytes is not 8 or 16`);
  }
  if (subsamples.length > CRYPTO_MAX_SUBSAMPLES) {
    invalid(`${subsamples.length} subsamples are too many`);
  }
  checkU8("pattern crypt blocks", pattern?.cryptByteBlock ?? 0);
  checkU8("pattern skip blocks", pattern?.skipByteBlock ?? 0);
  let covered = 0;
  for (const { clearBytes, encryptedBytes } of subsamples) {
    checkU32("subsample clear bytes", clearBytes);
    checkU32("subsample encrypted bytes", encryptedBytes);
    covered += clearBytes + encryptedBytes;
  }
  if (subsamples.length > 0 && covered !== dataLength) {
    invalid(`subsamples cover ${covered} bytes of a ${dataLength}-byte frame`);
  }
  return (
    CRYPTO_HEADER_SIZE +
    keyId.byteLength +
    iv.byteLength +
    subsamples.length * CRYPTO_SUBSAMPLE_SIZE
  );
}

function validateFrame(frame: MediaFrame): void {
  if (frame.kind !== "audio" && frame.kind !== "video" && frame.kind !== "subtitle") {
    invalid(`frame kind "${(frame as { kind: unknown }).kind}" is not audio, video or subtitle`);
  }
  checkU32("source id", frame.sourceId);
  if (!Number.isSafeInteger(frame.timestampNs)) {
    invalid(`timestamp ${frame.timestampNs} ns is not a safe integer`);
  }
  if (!Number.isSafeInteger(frame.durationNs) || frame.durationNs < 0) {
    invalid(`duration ${frame.durationNs} ns is not a non-negative safe integer`);
  }
  if (frame.kind === "audio") {
    checkU32("sample rate", frame.sampleRate);
    checkU32("channel count", frame.channels);
  } else if (frame.kind === "video") {
    checkU32("width", frame.width);
    checkU32("height", frame.height);
  }
}

function align(value: number): number {
  return Math.ceil(value / FRAME_DATA_ALIGN) * FRAME_DATA_ALIGN;
}

/**
 * Client side of needMediaData: writes frames into a region of the AV buffer as a
 * versioned metadata table followed by a data area (frame bytes, codec data, encryption
 * records). Creating a writer resets the region's table. The frame count in the header is
 * updated after each complete frame, so the table always describes whole frames.
 */
export class FrameWriter {
  readonly #region: Uint8Array;
  readonly #view: DataView;
  readonly #capacity: number;
  #count = 0;
  #cursor: number;

  /** Starts an empty table of `maxFrames` entries at the start of `region`. */
  constructor(region: Uint8Array, options: FrameWriterOptions) {
    const { maxFrames } = options;
    if (!Number.isInteger(maxFrames) || maxFrames < 1 || maxFrames > 0xffff) {
      invalid(`maxFrames ${maxFrames} is not an integer 1..65535`);
    }
    if (region.byteLength > MAX_U32) invalid(`region of ${region.byteLength} bytes exceeds 4 GiB`);
    const dataStart = FRAME_TABLE_HEADER_SIZE + maxFrames * FRAME_ENTRY_SIZE;
    if (dataStart > region.byteLength) {
      invalid(
        `a table of ${maxFrames} frames needs ${dataStart} bytes; the region has ${region.byteLength}`,
      );
    }
    this.#region = region;
    this.#view = new DataView(region.buffer, region.byteOffset, region.byteLength);
    this.#capacity = maxFrames;
    this.#cursor = dataStart;
    this.#view.setUint32(FRAME_TABLE_MAGIC_OFFSET, FRAME_TABLE_MAGIC, true);
    this.#view.setUint16(FRAME_TABLE_VERSION_OFFSET, FRAME_TABLE_VERSION, true);
    this.#view.setUint16(FRAME_TABLE_RESERVED_OFFSET, 0, true);
    this.#view.setUint32(FRAME_TABLE_COUNT_OFFSET, 0, true);
    this.#view.setUint32(FRAME_TABLE_CAPACITY_OFFSET, maxFrames, true);
  }

  /** Frames written so far. */
  get frameCount(): number {
    return this.#count;
  }

  /** Bytes of the region in use (header, table and data written so far). */
  get bytesUsed(): number {
    return this.#cursor;
  }

  /**
   * Appends a frame (copying its bytes into the region), or returns `"no-space"` when the
   * table is full or the bytes do not fit; nothing is written then. An invalid frame
   * (bad kind, non-integer timestamp, subsamples that do not cover the frame, ...) throws
   * `INVALID_ARGUMENT`.
   */
  write(frame: MediaFrame): FrameWriteResult {
    validateFrame(frame);
    const { data, codecData, encryption } = frame;
    const cryptoLength =
      encryption === undefined ? 0 : encryptionRecordSize(encryption, data.byteLength);
    if (this.#count === this.#capacity) return "no-space";
    const dataOffset = align(this.#cursor);
    const codecOffset = align(dataOffset + data.byteLength);
    const codecLength = codecData?.byteLength ?? 0;
    const cryptoOffset = align(codecOffset + codecLength);
    const end = cryptoOffset + cryptoLength;
    if (end > this.#region.byteLength) return "no-space";

    this.#region.set(data, dataOffset);
    if (codecData !== undefined) this.#region.set(codecData, codecOffset);
    if (encryption !== undefined) this.#writeEncryption(cryptoOffset, encryption);

    const entry = FRAME_TABLE_HEADER_SIZE + this.#count * FRAME_ENTRY_SIZE;
    const view = this.#view;
    const kind =
      frame.kind === "audio"
        ? FRAME_KIND_AUDIO
        : frame.kind === "video"
          ? FRAME_KIND_VIDEO
          : FRAME_KIND_SUBTITLE;
    const flags =
      (codecData === undefined ? 0 : FRAME_FLAG_CODEC_DATA) |
      (encryption === undefined ? 0 : FRAME_FLAG_ENCRYPTED);
    view.setUint8(entry + FRAME_ENTRY_KIND, kind);
    view.setUint8(entry + FRAME_ENTRY_FLAGS, flags);
    view.setUint16(entry + FRAME_ENTRY_RESERVED, 0, true);
    view.setUint32(entry + FRAME_ENTRY_SOURCE_ID, frame.sourceId, true);
    writeInt64(view, entry + FRAME_ENTRY_TIMESTAMP, frame.timestampNs);
    writeInt64(view, entry + FRAME_ENTRY_DURATION, frame.durationNs);
    view.setUint32(entry + FRAME_ENTRY_DATA_OFFSET, dataOffset, true);
    view.setUint32(entry + FRAME_ENTRY_DATA_LENGTH, data.byteLength, true);
    view.setUint32(
      entry + FRAME_ENTRY_PARAM_1,
      frame.kind === "audio" ? frame.sampleRate : frame.kind === "video" ? frame.width : 0,
      true,
    );
    view.setUint32(
      entry + FRAME_ENTRY_PARAM_2,
      frame.kind === "audio" ? frame.channels : frame.kind === "video" ? frame.height : 0,
      true,
    );
    view.setUint32(
      entry + FRAME_ENTRY_CODEC_OFFSET,
      codecData === undefined ? 0 : codecOffset,
      true,
    );
    view.setUint32(entry + FRAME_ENTRY_CODEC_LENGTH, codecLength, true);
    view.setUint32(
      entry + FRAME_ENTRY_CRYPTO_OFFSET,
      encryption === undefined ? 0 : cryptoOffset,
      true,
    );
    view.setUint32(entry + FRAME_ENTRY_CRYPTO_LENGTH, cryptoLength, true);

    this.#count++;
    this.#cursor = end;
    view.setUint32(FRAME_TABLE_COUNT_OFFSET, this.#count, true);
    return "ok";
  }

  #writeEncryption(offset: number, encryption: FrameEncryption): void {
    const view = this.#view;
    const { keyId, iv, subsamples, pattern } = encryption;
    view.setUint8(
      offset + CRYPTO_CIPHER_MODE,
      encryption.cipherMode === "cenc" ? CIPHER_MODE_CENC : CIPHER_MODE_CBCS,
    );
    view.setUint8(offset + CRYPTO_KEY_ID_LENGTH, keyId.byteLength);
    view.setUint8(offset + CRYPTO_IV_LENGTH, iv.byteLength);
    view.setUint8(offset + CRYPTO_CRYPT_BLOCKS, pattern?.cryptByteBlock ?? 0);
    view.setUint8(offset + CRYPTO_SKIP_BLOCKS, pattern?.skipByteBlock ?? 0);
    view.setUint8(offset + CRYPTO_RESERVED, 0);
    view.setUint16(offset + CRYPTO_SUBSAMPLE_COUNT, subsamples.length, true);
    view.setUint32(offset + CRYPTO_KEY_SESSION_ID, encryption.keySessionId, true);
    this.#region.set(keyId, offset + CRYPTO_HEADER_SIZE);
    this.#region.set(iv, offset + CRYPTO_HEADER_SIZE + keyId.byteLength);
    let at = offset + CRYPTO_HEADER_SIZE + keyId.byteLength + iv.byteLength;
    for (const { clearBytes, encryptedBytes } of subsamples) {
      view.setUint32(at, clearBytes, true);
      view.setUint32(at + 4, encryptedBytes, true);
      at += CRYPTO_SUBSAMPLE_SIZE;
    }
  }
}
