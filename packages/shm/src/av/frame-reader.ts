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
  CRYPTO_RESERVED,
  CRYPTO_SKIP_BLOCKS,
  CRYPTO_SUBSAMPLE_COUNT,
  CRYPTO_SUBSAMPLE_SIZE,
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
  FRAME_FLAGS_KNOWN,
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
import { readSafeInt64 } from "./int64.ts";
import type { FrameEncryption, MediaFrame, Subsample } from "./media-frame.ts";

/** Options of {@link readFrames}. */
export interface ReadFramesOptions {
  /** The most frames this request allowed (its frameCount); a table claiming more is refused. */
  readonly maxFrames: number;
}

function bad(message: string): never {
  throw new ShmError("BAD_METADATA", message);
}

/**
 * Bounds and field checks for one region. Every field is read once into a local and
 * checked there, so a peer rewriting the shared table meanwhile cannot move a checked
 * offset out of the region.
 */
class TableParser {
  readonly #region: Uint8Array;
  readonly #view: DataView;
  readonly #dataStart: number;

  constructor(region: Uint8Array, view: DataView, dataStart: number) {
    this.#region = region;
    this.#view = view;
    this.#dataStart = dataStart;
  }

  /** A view of [offset, offset + length) after checking it lies in the data area. */
  slice(what: string, frame: number, offset: number, length: number): Uint8Array {
    if (offset < this.#dataStart || offset + length > this.#region.byteLength) {
      throw new ShmError(
        "OUT_OF_BOUNDS",
        `frame ${frame}: ${what} (offset ${offset}, length ${length}) is outside the data area ${this.#dataStart}..${this.#region.byteLength}`,
      );
    }
    return this.#region.subarray(offset, offset + length);
  }

  frame(index: number): MediaFrame {
    const view = this.#view;
    const entry = FRAME_TABLE_HEADER_SIZE + index * FRAME_ENTRY_SIZE;
    const kind = view.getUint8(entry + FRAME_ENTRY_KIND);
    const flags = view.getUint8(entry + FRAME_ENTRY_FLAGS);
    if ((flags & ~FRAME_FLAGS_KNOWN) !== 0) {
      bad(`frame ${index}: unknown flags 0x${flags.toString(16)}`);
    }
    if (view.getUint16(entry + FRAME_ENTRY_RESERVED, true) !== 0) {
      bad(`frame ${index}: reserved field is not 0`);
    }
    const timestampNs = readSafeInt64(view, entry + FRAME_ENTRY_TIMESTAMP);
    if (timestampNs === undefined) bad(`frame ${index}: timestamp is not a safe integer`);
    const durationNs = readSafeInt64(view, entry + FRAME_ENTRY_DURATION);
    if (durationNs === undefined || durationNs < 0) {
      bad(`frame ${index}: duration ${durationNs} is not >= 0`);
    }
    const sourceId = view.getUint32(entry + FRAME_ENTRY_SOURCE_ID, true);
    const param1 = view.getUint32(entry + FRAME_ENTRY_PARAM_1, true);
    const param2 = view.getUint32(entry + FRAME_ENTRY_PARAM_2, true);
    const data = this.slice(
      "data",
      index,
      view.getUint32(entry + FRAME_ENTRY_DATA_OFFSET, true),
      view.getUint32(entry + FRAME_ENTRY_DATA_LENGTH, true),
    );
    const codecData = this.#codecData(index, flags, entry);
    const encryption = this.#encryptionOf(index, flags, entry, data.byteLength);
    // One literal per kind, with every key present, keeps frames a single shape for the JIT.
    switch (kind) {
      case FRAME_KIND_AUDIO:
        return {
          kind: "audio",
          sourceId,
          timestampNs,
          durationNs,
          data,
          codecData,
          encryption,
          sampleRate: param1,
          channels: param2,
        };
      case FRAME_KIND_VIDEO:
        return {
          kind: "video",
          sourceId,
          timestampNs,
          durationNs,
          data,
          codecData,
          encryption,
          width: param1,
          height: param2,
        };
      case FRAME_KIND_SUBTITLE:
        if (param1 !== 0 || param2 !== 0) {
          bad(`frame ${index}: subtitle frame has audio/video parameters`);
        }
        return { kind: "subtitle", sourceId, timestampNs, durationNs, data, codecData, encryption };
      default:
        return bad(`frame ${index}: unknown media kind ${kind}`);
    }
  }

  #codecData(index: number, flags: number, entry: number): Uint8Array | undefined {
    const offset = this.#view.getUint32(entry + FRAME_ENTRY_CODEC_OFFSET, true);
    const length = this.#view.getUint32(entry + FRAME_ENTRY_CODEC_LENGTH, true);
    if ((flags & FRAME_FLAG_CODEC_DATA) !== 0) {
      return this.slice("codec data", index, offset, length);
    }
    if (offset !== 0 || length !== 0) {
      bad(`frame ${index}: codec data fields set without the codec-data flag`);
    }
    return undefined;
  }

  #encryptionOf(
    index: number,
    flags: number,
    entry: number,
    dataLength: number,
  ): FrameEncryption | undefined {
    const offset = this.#view.getUint32(entry + FRAME_ENTRY_CRYPTO_OFFSET, true);
    const length = this.#view.getUint32(entry + FRAME_ENTRY_CRYPTO_LENGTH, true);
    if ((flags & FRAME_FLAG_ENCRYPTED) === 0) {
      if (offset !== 0 || length !== 0) {
        bad(`frame ${index}: encryption fields set without the encrypted flag`);
      }
      return undefined;
    }
    const encryption = this.#encryption(
      index,
      this.slice("encryption record", index, offset, length),
    );
    if (encryption.subsamples.length > 0) {
      const covered = encryption.subsamples.reduce(
        (sum, s) => sum + s.clearBytes + s.encryptedBytes,
        0,
      );
      if (covered !== dataLength) {
        bad(`frame ${index}: subsamples cover ${covered} bytes of ${dataLength}`);
      }
    }
    return encryption;
  }

  #encryption(index: number, record: Uint8Array): FrameEncryption {
    if (record.byteLength < CRYPTO_HEADER_SIZE) {
      bad(`frame ${index}: encryption record of ${record.byteLength} bytes is too short`);
    }
    const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
    const mode = view.getUint8(CRYPTO_CIPHER_MODE);
    if (mode !== CIPHER_MODE_CENC && mode !== CIPHER_MODE_CBCS) {
      bad(`frame ${index}: unknown cipher mode ${mode}`);
    }
    const keyIdLength = view.getUint8(CRYPTO_KEY_ID_LENGTH);
    const ivLength = view.getUint8(CRYPTO_IV_LENGTH);
    if (ivLength !== 8 && ivLength !== 16) {
      bad(`frame ${index}: IV length ${ivLength} is not 8 or 16`);
    }
    if (view.getUint8(CRYPTO_RESERVED) !== 0) {
      bad(`frame ${index}: encryption reserved field is not 0`);
    }
    const cryptByteBlock = view.getUint8(CRYPTO_CRYPT_BLOCKS);
    const skipByteBlock = view.getUint8(CRYPTO_SKIP_BLOCKS);
    const count = view.getUint16(CRYPTO_SUBSAMPLE_COUNT, true);
    const subsamplesAt = CRYPTO_HEADER_SIZE + keyIdLength + ivLength;
    const expected = subsamplesAt + count * CRYPTO_SUBSAMPLE_SIZE;
    if (record.byteLength !== expected) {
      bad(
        `frame ${index}: encryption record is ${record.byteLength} bytes; its fields need ${expected}`,
      );
    }
    const subsamples: Subsample[] = [];
    for (let at = subsamplesAt; at < expected; at += CRYPTO_SUBSAMPLE_SIZE) {
      subsamples.push({
        clearBytes: view.getUint32(at, true),
        encryptedBytes: view.getUint32(at + 4, true),
      });
    }
    return {
      cipherMode: mode === CIPHER_MODE_CENC ? "cenc" : "cbcs",
      keySessionId: view.getUint32(CRYPTO_KEY_SESSION_ID, true),
      keyId: record.subarray(CRYPTO_HEADER_SIZE, CRYPTO_HEADER_SIZE + keyIdLength),
      iv: record.subarray(CRYPTO_HEADER_SIZE + keyIdLength, subsamplesAt),
      subsamples,
      ...(cryptByteBlock === 0 && skipByteBlock === 0
        ? {}
        : { pattern: { cryptByteBlock, skipByteBlock } }),
    };
  }
}

/**
 * Server side of haveData: reads the frame table a {@link FrameWriter} left in `region`
 * and returns its frames, whose `data`, `codecData`, key id and IV are views into the
 * region (no frame bytes are copied). Every offset, length and count is checked against
 * the region: any byte pattern yields valid frames or a {@link ShmError} (`BAD_METADATA`,
 * `OUT_OF_BOUNDS` or `UNSUPPORTED_VERSION`), never a read outside the region.
 */
export function readFrames(region: Uint8Array, options: ReadFramesOptions): MediaFrame[] {
  if (!Number.isInteger(options.maxFrames) || options.maxFrames < 0) {
    throw new ShmError(
      "INVALID_ARGUMENT",
      `maxFrames ${options.maxFrames} is not a non-negative integer`,
    );
  }
  if (region.byteLength < FRAME_TABLE_HEADER_SIZE) {
    bad(`region of ${region.byteLength} bytes has no table header`);
  }
  const view = new DataView(region.buffer, region.byteOffset, region.byteLength);
  const magic = view.getUint32(FRAME_TABLE_MAGIC_OFFSET, true);
  if (magic !== FRAME_TABLE_MAGIC) {
    bad(`table magic 0x${magic.toString(16)} is not 0x${FRAME_TABLE_MAGIC.toString(16)}`);
  }
  const version = view.getUint16(FRAME_TABLE_VERSION_OFFSET, true);
  if (version !== FRAME_TABLE_VERSION) {
    throw new ShmError(
      "UNSUPPORTED_VERSION",
      `frame table version ${version} is not ${FRAME_TABLE_VERSION}`,
    );
  }
  if (view.getUint16(FRAME_TABLE_RESERVED_OFFSET, true) !== 0) bad("table reserved field is not 0");
  const count = view.getUint32(FRAME_TABLE_COUNT_OFFSET, true);
  const capacity = view.getUint32(FRAME_TABLE_CAPACITY_OFFSET, true);
  const dataStart = FRAME_TABLE_HEADER_SIZE + capacity * FRAME_ENTRY_SIZE;
  if (dataStart > region.byteLength) {
    bad(`table capacity ${capacity} does not fit a ${region.byteLength}-byte region`);
  }
  if (count > capacity) bad(`frame count ${count} exceeds the table capacity ${capacity}`);
  if (count > options.maxFrames) {
    bad(`frame count ${count} exceeds the ${options.maxFrames} frames requested`);
  }
  const parser = new TableParser(region, view, dataStart);
  const frames: MediaFrame[] = [];
  for (let index = 0; index < count; index++) frames.push(parser.frame(index));
  return frames;
}
