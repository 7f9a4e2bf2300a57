import { RialtoError } from "@rialto/protocol";

/**
 * One ISO BMFF box (ISO/IEC 14496-12 section 4.2) as found in a byte range: its four-character
 * type and where its header and payload are, as absolute offsets into the input.
 */
export interface Box {
  /** Four-character type, e.g. `moov`. */
  readonly type: string;
  /** Offset of the box header. */
  readonly start: number;
  /** Offset of the payload (after size, type, largesize and a `uuid` extended type). */
  readonly payloadStart: number;
  /** Offset just past the box. */
  readonly end: number;
}

/**
 * The error of every malformed-input case of the MP4 readers: `RialtoError` `INVALID_ARGUMENT`
 * whose message names the file and where in it the problem is.
 */
export function mp4Error(file: string, problem: string, cause?: unknown): RialtoError {
  return new RialtoError("INVALID_ARGUMENT", `demuxMp4: "${file}" ${problem}`, { cause });
}

function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(
    bytes[at] ?? 0,
    bytes[at + 1] ?? 0,
    bytes[at + 2] ?? 0,
    bytes[at + 3] ?? 0,
  );
}

/**
 * The boxes laid end to end in `bytes[start, end)`. A box of size 0 runs to `end`; size 1 has a
 * 64-bit size after its type. Anything that does not fit (a header cut short, a size smaller than
 * its header or past `end`) is an error naming the file, the box and the offset, except a last
 * box running past `end` with `allowTruncatedLast` (the top level of a file cut short).
 */
export function readBoxes(
  file: string,
  bytes: Uint8Array,
  start: number,
  end: number,
  options: { readonly allowTruncatedLast?: boolean } = {},
): Box[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const boxes: Box[] = [];
  let at = start;
  while (at < end) {
    if (end - at < 8) throw mp4Error(file, `has ${end - at} stray bytes at offset ${at}`);
    let size = view.getUint32(at);
    const type = fourcc(bytes, at + 4);
    let header = 8;
    if (size === 1) {
      if (end - at < 16) throw mp4Error(file, `has a ${type} box cut short at offset ${at}`);
      size = Number(view.getBigUint64(at + 8));
      header = 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (type === "uuid") header += 16;
    // A file cut short (a partial download) keeps what it has of its last box; the samples
    // that fall outside it are reported by whoever reads them.
    if (options.allowTruncatedLast && size >= header && at + size > end) size = end - at;
    if (size < header || !Number.isSafeInteger(size) || at + size > end) {
      throw mp4Error(
        file,
        `has a ${type} box of ${size} bytes at offset ${at} that does not fit in ${end - at} bytes`,
      );
    }
    boxes.push({ type, start: at, payloadStart: at + header, end: at + size });
    at += size;
  }
  return boxes;
}

/**
 * A bounds-checked big-endian reader over one box's payload: every read past the box is an
 * error naming the file and the box, never a `RangeError` or a value read from the next box.
 */
export class BoxCursor {
  readonly file: string;
  readonly box: Box;
  readonly bytes: Uint8Array;
  readonly #view: DataView;
  /** Absolute offset of the next read. */
  at: number;

  constructor(file: string, bytes: Uint8Array, box: Box) {
    this.file = file;
    this.box = box;
    this.bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.at = box.payloadStart;
  }

  /** Bytes left in the box. */
  get remaining(): number {
    return this.box.end - this.at;
  }

  #take(count: number): number {
    if (count < 0 || count > this.remaining) {
      throw mp4Error(
        this.file,
        `has a ${this.box.type} box at offset ${this.box.start} cut short: ${count} bytes needed at offset ${this.at}, ${this.remaining} left`,
      );
    }
    const at = this.at;
    this.at += count;
    return at;
  }

  u8(): number {
    return this.#view.getUint8(this.#take(1));
  }

  u16(): number {
    return this.#view.getUint16(this.#take(2));
  }

  u24(): number {
    const at = this.#take(3);
    return (this.#view.getUint16(at) << 8) | this.#view.getUint8(at + 2);
  }

  u32(): number {
    return this.#view.getUint32(this.#take(4));
  }

  i32(): number {
    return this.#view.getInt32(this.#take(4));
  }

  /** A 64-bit unsigned value; beyond 2^53 is an error (no MP4 offset or time is that large). */
  u64(): number {
    const value = this.#view.getBigUint64(this.#take(8));
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw mp4Error(this.file, `has a ${this.box.type} box with a 64-bit value ${value}`);
    }
    return Number(value);
  }

  /** A 64-bit signed value within the safe integer range. */
  i64(): number {
    const value = this.#view.getBigInt64(this.#take(8));
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw mp4Error(this.file, `has a ${this.box.type} box with a 64-bit value ${value}`);
    }
    return Number(value);
  }

  /** `count` bytes as a view of the input. */
  bytesView(count: number): Uint8Array {
    const at = this.#take(count);
    return this.bytes.subarray(at, at + count);
  }

  fourcc(): string {
    return fourcc(this.bytes, this.#take(4));
  }

  skip(count: number): void {
    this.#take(count);
  }

  /** Version and flags of a full box (ISO/IEC 14496-12 section 4.2). */
  fullBoxHeader(): { version: number; flags: number } {
    const word = this.u32();
    return { version: word >>> 24, flags: word & 0xffffff };
  }

  /** The error of a value this box may not hold. */
  invalid(problem: string): RialtoError {
    return mp4Error(
      this.file,
      `has a ${this.box.type} box at offset ${this.box.start} with ${problem}`,
    );
  }
}

/** The boxes inside `box`, from `skip` bytes into its payload (e.g. past a full-box header). */
export function childBoxes(file: string, bytes: Uint8Array, box: Box, skip = 0): Box[] {
  return readBoxes(file, bytes, Math.min(box.payloadStart + skip, box.end), box.end);
}

/** The first box of `type` among `boxes`, or undefined. */
export function findBox(boxes: readonly Box[], type: string): Box | undefined {
  return boxes.find((box) => box.type === type);
}
