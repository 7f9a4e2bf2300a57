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
import { exceedsJsonDepth, JsonDepthScanner } from "./json-depth.ts";

/** One decoded frame. `body` is only valid during the callback that receives it. */
export interface Frame {
  type: FrameType;
  encoding: FrameEncoding;
  /** The body; empty when {@link Frame.tooDeep}. */
  body: Uint8Array;
  /**
   * The body nested arrays/objects deeper than the decoder's `maxJsonDepth`: it was dropped
   * (not kept, not parsed) as it arrived. The frame is still delivered so it can be answered.
   */
  tooDeep?: true;
}

/** Options of {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /** Largest body accepted, bytes (default 1 MiB); checked on the header. */
  maxFrameLength?: number;
  /** When set, bodies nesting deeper than this are dropped as they arrive ({@link Frame.tooDeep}). */
  maxJsonDepth?: number;
}

const EMPTY = new Uint8Array(0);

/** Pieces smaller than this are gathered before they are kept (bytes). */
const STAGING_SIZE = 4096;

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
   * The incomplete frame received so far, as copies of what arrived: an announced length
   * allocates nothing, so a peer holds only as much of our memory as it really sent (no
   * doubling, no garbage from regrowing). Small pieces are gathered in {@link #staging} first,
   * so a peer dribbling single bytes cannot make us hold an object per byte.
   */
  #parts: Uint8Array[] = [];
  #staging: Uint8Array | undefined;
  #stagingLength = 0;
  #partialLength = 0;
  /** Header + body length of the incomplete frame, once its header is complete. */
  #frameLength: number | undefined;
  /** Measures the incomplete frame's nesting as its body arrives (with `maxJsonDepth`). */
  #scanner: JsonDepthScanner | undefined;
  /** The incomplete frame nests too deep: its remaining bytes are counted, not kept. */
  #discarding = false;
  readonly #maxJsonDepth: number | undefined;
  #failure: RialtoError | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.#maxFrameLength = options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH;
    this.#maxJsonDepth = options.maxJsonDepth;
  }

  /** The error that stopped this decoder, if any. */
  get failure(): RialtoError | undefined {
    return this.#failure;
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.#partialLength;
  }

  /** Memory held for the incomplete frame, in bytes: what arrived, plus at most 4 KiB. */
  get retainedBytes(): number {
    let bytes = this.#staging?.byteLength ?? 0;
    for (const part of this.#parts) bytes += part.byteLength;
    return bytes;
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
      const body = chunk.subarray(offset + FRAME_HEADER_LENGTH, end);
      const tooDeep =
        this.#maxJsonDepth !== undefined && exceedsJsonDepth(body, this.#maxJsonDepth);
      onFrame({
        type: header.type as FrameType,
        encoding: header.encoding as FrameEncoding,
        ...(tooDeep ? { body: EMPTY, tooDeep } : { body }),
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
    if (rest.byteLength < FRAME_HEADER_LENGTH) {
      this.#frameLength = undefined;
      this.#append(rest);
      return;
    }
    this.#frameLength = FRAME_HEADER_LENGTH + readUint32(rest, 0);
    this.#startScan();
    this.#append(rest.subarray(0, FRAME_HEADER_LENGTH));
    this.#appendBody(rest.subarray(FRAME_HEADER_LENGTH));
  }

  /** Continues the held frame from the front of `chunk`; returns how many bytes it consumed. */
  #fillPartial(chunk: Uint8Array, onFrame: (frame: Frame) => void): number {
    let consumed = 0;
    if (this.#frameLength === undefined) {
      consumed = Math.min(FRAME_HEADER_LENGTH - this.#partialLength, chunk.byteLength);
      this.#append(chunk.subarray(0, consumed));
      if (this.#partialLength < FRAME_HEADER_LENGTH) return consumed;
      const head = this.#assemble();
      const header = readFrameHeader(head, 0);
      const failure = this.#check(header);
      if (failure !== undefined) {
        this.#fail(failure);
        return consumed;
      }
      this.#frameLength = FRAME_HEADER_LENGTH + header.bodyLength;
      this.#startScan();
    }
    const take = Math.min(this.#frameLength - this.#partialLength, chunk.byteLength - consumed);
    this.#appendBody(chunk.subarray(consumed, consumed + take));
    consumed += take;
    if (this.#partialLength === this.#frameLength) {
      const frame = this.#assemble();
      const tooDeep = this.#discarding;
      this.#reset();
      const header = readFrameHeader(frame, 0);
      onFrame({
        type: header.type as FrameType,
        encoding: header.encoding as FrameEncoding,
        ...(tooDeep ? { body: EMPTY, tooDeep } : { body: frame.subarray(FRAME_HEADER_LENGTH) }),
      });
    }
    return consumed;
  }

  #startScan(): void {
    if (this.#maxJsonDepth !== undefined) this.#scanner = new JsonDepthScanner(this.#maxJsonDepth);
  }

  /** Adds body bytes: kept, or, once the body nests too deep, only counted (header kept). */
  #appendBody(bytes: Uint8Array): void {
    if (!this.#discarding && this.#scanner?.feed(bytes) === true) {
      // Keep the header (to deliver the frame's type), drop the body received so far.
      const head = this.#assemble().subarray(0, FRAME_HEADER_LENGTH).slice();
      this.#parts = [head];
      this.#staging = undefined;
      this.#stagingLength = 0;
      this.#discarding = true;
    }
    if (this.#discarding) {
      this.#partialLength += bytes.byteLength;
      return;
    }
    this.#append(bytes);
  }

  /** Copies `bytes` into the held frame: small pieces into the staging buffer, large ones as a part. */
  #append(bytes: Uint8Array): void {
    this.#partialLength += bytes.byteLength;
    if (bytes.byteLength >= STAGING_SIZE) {
      this.#flushStaging();
      this.#parts.push(bytes.slice());
      return;
    }
    if (this.#staging !== undefined && this.#stagingLength + bytes.byteLength > STAGING_SIZE) {
      this.#flushStaging();
    }
    this.#staging ??= new Uint8Array(STAGING_SIZE);
    this.#staging.set(bytes, this.#stagingLength);
    this.#stagingLength += bytes.byteLength;
  }

  #flushStaging(): void {
    if (this.#staging === undefined || this.#stagingLength === 0) return;
    this.#parts.push(this.#staging.slice(0, this.#stagingLength));
    this.#stagingLength = 0;
  }

  /** The held bytes as one array (the frame once complete; only its header when discarding). */
  #assemble(): Uint8Array {
    this.#flushStaging();
    if (this.#discarding) return this.#parts[0] as Uint8Array;
    if (this.#parts.length === 1) return this.#parts[0] as Uint8Array;
    let size = 0;
    for (const part of this.#parts) size += part.byteLength;
    const whole = new Uint8Array(size);
    let at = 0;
    for (const part of this.#parts) {
      whole.set(part, at);
      at += part.byteLength;
    }
    this.#parts = [whole];
    return whole;
  }

  #reset(): void {
    this.#parts = [];
    this.#staging = undefined;
    this.#stagingLength = 0;
    this.#partialLength = 0;
    this.#frameLength = undefined;
    this.#scanner = undefined;
    this.#discarding = false;
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
    this.#reset();
    return this.#failure;
  }
}
