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

const KNOWN_TYPES: ReadonlySet<number> = new Set(Object.values(FrameType));
const KNOWN_ENCODINGS: ReadonlySet<number> = new Set(Object.values(FrameEncoding));

/**
 * A streaming frame decoder: feed it bytes as they arrive, split or coalesced in any way, and it
 * calls back once per complete frame. It never throws on bad input: a bad header (magic, version,
 * type, encoding, or a length over the maximum, checked before anything is allocated) puts it in
 * a failed state and returns a PROTOCOL_ERROR, because the stream can no longer be resynchronised.
 */
export class FrameDecoder {
  readonly #maxFrameLength: number;
  /** Holds an incomplete frame between chunks: the header, then header + body. */
  #partial: Uint8Array | undefined;
  #partialLength = 0;
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

  /**
   * Decodes what `chunk` completes. Returns the PROTOCOL_ERROR that stopped the decoder, or
   * undefined while the stream is healthy. Exceptions thrown by `onFrame` propagate to the caller.
   */
  push(chunk: Uint8Array, onFrame: (frame: Frame) => void): RialtoError | undefined {
    if (this.#failure !== undefined) return this.#failure;
    let offset = 0;
    if (this.#partial !== undefined) {
      offset = this.#fillPartial(chunk, onFrame);
      if (this.#failure !== undefined || this.#partial !== undefined) return this.#failure;
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

  #keep(rest: Uint8Array): void {
    // A known header lets us allocate the exact frame once; the length was checked above.
    const size =
      rest.byteLength >= FRAME_HEADER_LENGTH
        ? FRAME_HEADER_LENGTH + readUint32(rest, 0)
        : FRAME_HEADER_LENGTH;
    this.#partial = new Uint8Array(size);
    this.#partial.set(rest);
    this.#partialLength = rest.byteLength;
  }

  /** Completes the held frame from the front of `chunk`; returns how many bytes it consumed. */
  #fillPartial(chunk: Uint8Array, onFrame: (frame: Frame) => void): number {
    let partial = this.#partial as Uint8Array;
    let consumed = 0;
    if (this.#partialLength < FRAME_HEADER_LENGTH) {
      consumed = Math.min(FRAME_HEADER_LENGTH - this.#partialLength, chunk.byteLength);
      partial.set(chunk.subarray(0, consumed), this.#partialLength);
      this.#partialLength += consumed;
      if (this.#partialLength < FRAME_HEADER_LENGTH) return consumed;
      const header = readFrameHeader(partial, 0);
      const failure = this.#check(header);
      if (failure !== undefined) {
        this.#fail(failure);
        return consumed;
      }
      const grown = new Uint8Array(FRAME_HEADER_LENGTH + header.bodyLength);
      grown.set(partial.subarray(0, FRAME_HEADER_LENGTH));
      partial = grown;
      this.#partial = grown;
    }
    const take = Math.min(partial.byteLength - this.#partialLength, chunk.byteLength - consumed);
    partial.set(chunk.subarray(consumed, consumed + take), this.#partialLength);
    this.#partialLength += take;
    consumed += take;
    if (this.#partialLength === partial.byteLength) {
      this.#partial = undefined;
      this.#partialLength = 0;
      const header = readFrameHeader(partial, 0);
      onFrame({
        type: header.type as FrameType,
        encoding: header.encoding as FrameEncoding,
        body: partial.subarray(FRAME_HEADER_LENGTH),
      });
    }
    return consumed;
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
    this.#partial = undefined;
    this.#partialLength = 0;
    return this.#failure;
  }
}
