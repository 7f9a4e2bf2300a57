import { RialtoError } from "../errors.ts";
import {
  DEFAULT_MAX_FRAME_LENGTH,
  FRAME_HEADER_LENGTH,
  FRAME_MAGIC,
  FRAME_VERSION,
  FrameEncoding,
  FrameType,
  readFrameHeader,
  readUint32,
} from "./frame-header.ts";

/** One decoded frame. `body` is only valid during the callback that receives it. */
export interface Frame {
  type: FrameType;
  encoding: FrameEncoding;
  body: Uint8Array;
}

const EMPTY = new Uint8Array(0);
/** First size of the buffer of an incomplete frame (most frames are smaller). */
const MIN_BUFFER = 4096;

const KNOWN_TYPES: ReadonlySet<number> = new Set(Object.values(FrameType));
const KNOWN_ENCODINGS: ReadonlySet<number> = new Set(Object.values(FrameEncoding));

/**
 * A streaming frame decoder: feed it bytes as they arrive, split or coalesced in any way, and it
 * calls back once per complete frame. It never throws on bad input: a bad header (magic, version,
 * type, encoding, or a length over the maximum, checked before anything is allocated) puts it in
 * a failed state and returns a PROTOCOL_ERROR, because the stream can no longer be resynchronised.
 */
export class FrameDecoder {
  #maxFrameLength: number;
  /**
   * The incomplete frame received so far, in a buffer that grows (doubling, up to the frame's
   * length) as bytes arrive: an announced length allocates nothing, so a peer holds at most
   * twice what it really sent of our memory.
   */
  #partial: Uint8Array = EMPTY;
  #partialLength = 0;
  /** Header + body length of the incomplete frame, once its header is complete. */
  #frameLength: number | undefined;
  #failure: RialtoError | undefined;

  constructor(options: { maxFrameLength?: number } = {}) {
    this.#maxFrameLength = options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH;
  }

  /** The error that stopped this decoder, if any. */
  get failure(): RialtoError | undefined {
    return this.#failure;
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.#partialLength;
  }

  /** Memory held for the incomplete frame, in bytes: at most twice {@link bufferedBytes}, or 4 KiB. */
  get retainedBytes(): number {
    return this.#partial.byteLength;
  }

  /** The largest body accepted, in bytes. */
  get maxFrameLength(): number {
    return this.#maxFrameLength;
  }

  /**
   * Changes the largest body accepted from the next header on (e.g. larger once a peer has
   * registered). A frame whose header was already accepted is not checked again.
   */
  set maxFrameLength(bytes: number) {
    this.#maxFrameLength = bytes;
  }

  /**
   * Decodes what `chunk` completes. Returns the PROTOCOL_ERROR that stopped the decoder, or
   * undefined while the stream is healthy. Exceptions thrown by `onFrame` propagate to the caller.
   */
  push(chunk: Uint8Array, onFrame: (frame: Frame) => void): RialtoError | undefined {
    if (this.#failure !== undefined) return this.#failure;
    let offset = 0;
    if (this.#partialLength > 0) {
      offset = this.#fillPartial(chunk, onFrame);
      if (this.#failure !== undefined || this.#partialLength > 0) return this.#failure;
    }
    while (chunk.byteLength - offset >= FRAME_HEADER_LENGTH) {
      const header = readFrameHeader(chunk, offset);
      const failure = this.#check(header);
      if (failure !== undefined) return this.#fail(failure);
      const end = offset + FRAME_HEADER_LENGTH + header.bodyLength;
      if (end > chunk.byteLength) break;
      onFrame({
        type: header.type as FrameType,
        encoding: header.encoding as FrameEncoding,
        body: chunk.subarray(offset + FRAME_HEADER_LENGTH, end),
      });
      offset = end;
    }
    if (offset < chunk.byteLength) this.#keep(chunk.subarray(offset));
    return undefined;
  }

  /**
   * Declares the end of the stream: a frame cut short is a PROTOCOL_ERROR (returned, not thrown).
   */
  finish(): RialtoError | undefined {
    if (this.#failure !== undefined) return this.#failure;
    if (this.#partialLength > 0) {
      return this.#fail(
        `stream ended inside a frame (${this.#partialLength} bytes of an incomplete frame)`,
      );
    }
    return undefined;
  }

  /** Keeps the start of a frame (its header was checked by the caller when complete). */
  #keep(rest: Uint8Array): void {
    this.#frameLength =
      rest.byteLength >= FRAME_HEADER_LENGTH
        ? FRAME_HEADER_LENGTH + readUint32(rest, 0)
        : undefined;
    this.#partial = EMPTY;
    this.#partialLength = 0;
    this.#append(rest);
  }

  /** Continues the held frame from the front of `chunk`; returns how many bytes it consumed. */
  #fillPartial(chunk: Uint8Array, onFrame: (frame: Frame) => void): number {
    let consumed = 0;
    if (this.#frameLength === undefined) {
      consumed = Math.min(FRAME_HEADER_LENGTH - this.#partialLength, chunk.byteLength);
      this.#append(chunk.subarray(0, consumed));
      if (this.#partialLength < FRAME_HEADER_LENGTH) return consumed;
      const header = readFrameHeader(this.#partial, 0);
      const failure = this.#check(header);
      if (failure !== undefined) {
        this.#fail(failure);
        return consumed;
      }
      this.#frameLength = FRAME_HEADER_LENGTH + header.bodyLength;
    }
    const take = Math.min(this.#frameLength - this.#partialLength, chunk.byteLength - consumed);
    this.#append(chunk.subarray(consumed, consumed + take));
    consumed += take;
    if (this.#partialLength === this.#frameLength) {
      const frame = this.#partial.subarray(0, this.#partialLength);
      this.#partial = EMPTY;
      this.#partialLength = 0;
      this.#frameLength = undefined;
      const header = readFrameHeader(frame, 0);
      onFrame({
        type: header.type as FrameType,
        encoding: header.encoding as FrameEncoding,
        body: frame.subarray(FRAME_HEADER_LENGTH),
      });
    }
    return consumed;
  }

  /** Appends to the held frame, growing its buffer by doubling up to the frame's length. */
  #append(bytes: Uint8Array): void {
    const needed = this.#partialLength + bytes.byteLength;
    if (needed > this.#partial.byteLength) {
      const limit = this.#frameLength ?? FRAME_HEADER_LENGTH;
      const size = Math.min(Math.max(needed, this.#partial.byteLength * 2, MIN_BUFFER), limit);
      const grown = new Uint8Array(Math.max(size, needed));
      grown.set(this.#partial.subarray(0, this.#partialLength));
      this.#partial = grown;
    }
    this.#partial.set(bytes, this.#partialLength);
    this.#partialLength = needed;
  }

  #check(header: ReturnType<typeof readFrameHeader>): string | undefined {
    if (header.magic !== FRAME_MAGIC) {
      return `bad frame magic 0x${header.magic.toString(16).padStart(8, "0")} (expected 0x${FRAME_MAGIC.toString(16)})`;
    }
    if (header.version !== FRAME_VERSION) {
      return `unsupported frame version ${header.version} (expected ${FRAME_VERSION})`;
    }
    if (header.bodyLength > this.#maxFrameLength) {
      return `frame body of ${header.bodyLength} bytes exceeds the maximum of ${this.#maxFrameLength} bytes`;
    }
    if (!KNOWN_TYPES.has(header.type)) return `unknown frame type ${header.type}`;
    if (!KNOWN_ENCODINGS.has(header.encoding)) return `unknown frame encoding ${header.encoding}`;
    return undefined;
  }

  #fail(message: string): RialtoError {
    this.#failure = new RialtoError("PROTOCOL_ERROR", message);
    this.#partial = EMPTY;
    this.#partialLength = 0;
    this.#frameLength = undefined;
    return this.#failure;
  }
}
