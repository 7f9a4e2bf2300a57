/**
 * The fixed 14-byte frame header, big-endian, modelled on the retry-RPC design:
 *
 * | offset | size | field                                   |
 * |--------|------|-----------------------------------------|
 * | 0      | 4    | body length in bytes                    |
 * | 4      | 2    | encoding ({@link FrameEncoding})        |
 * | 6      | 2    | framing version ({@link FRAME_VERSION}) |
 * | 8      | 2    | message type ({@link FrameType})        |
 * | 10     | 4    | magic ({@link FRAME_MAGIC})             |
 */
export const FRAME_HEADER_LENGTH = 14;

/** "RIAL" in ASCII: marks the start of every frame. */
export const FRAME_MAGIC = 0x5249414c;

/** The framing version; bumped only if the header itself changes. */
export const FRAME_VERSION = 1;

/** Default and absolute maximum body length: 1 MiB (SPEC 7). */
export const DEFAULT_MAX_FRAME_LENGTH = 1024 * 1024;

/** How a frame's body is encoded. */
export const FrameEncoding = { Json: 1 } as const;
export type FrameEncoding = (typeof FrameEncoding)[keyof typeof FrameEncoding];

/** What a frame carries. */
export const FrameType = {
  /** A call: `{id, method, params, ack?}`. */
  Request: 1,
  /** The answer to a call: `{id, result}` or `{id, error}`. */
  Response: 2,
  /** A one-way message: `{event, payload, seq?}`. */
  Event: 3,
  /** A protocol-level error the peer should know about: `{error}`; often sent before closing. */
  Notice: 4,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** The parsed fields of a header. */
export interface FrameHeader {
  bodyLength: number;
  encoding: number;
  version: number;
  type: number;
  magic: number;
}

/**
 * Reads the header at `offset` of `bytes` (which must hold at least 14 bytes from there). Plain
 * byte reads: a DataView would force the typed array to materialise its ArrayBuffer.
 */
export function readFrameHeader(bytes: Uint8Array, offset: number): FrameHeader {
  return {
    bodyLength: readUint32(bytes, offset),
    encoding: readUint16(bytes, offset + 4),
    version: readUint16(bytes, offset + 6),
    type: readUint16(bytes, offset + 8),
    magic: readUint32(bytes, offset + 10),
  };
}

/** Big-endian unsigned 32-bit read. */
export function readUint32(bytes: Uint8Array, offset: number): number {
  return (
    (((bytes[offset] as number) << 24) |
      ((bytes[offset + 1] as number) << 16) |
      ((bytes[offset + 2] as number) << 8) |
      (bytes[offset + 3] as number)) >>>
    0
  );
}

function readUint16(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] as number) << 8) | (bytes[offset + 1] as number);
}

/** Writes a header for a body of `bodyLength` bytes at the start of `frame`. */
export function writeFrameHeader(
  frame: Uint8Array,
  type: FrameType,
  bodyLength: number,
  encoding: FrameEncoding = FrameEncoding.Json,
): void {
  // Byte stores: cheaper than a DataView on the small frames that dominate.
  frame[0] = bodyLength >>> 24;
  frame[1] = bodyLength >>> 16;
  frame[2] = bodyLength >>> 8;
  frame[3] = bodyLength;
  frame[4] = encoding >>> 8;
  frame[5] = encoding;
  frame[6] = FRAME_VERSION >>> 8;
  frame[7] = FRAME_VERSION;
  frame[8] = type >>> 8;
  frame[9] = type;
  frame[10] = FRAME_MAGIC >>> 24;
  frame[11] = FRAME_MAGIC >>> 16;
  frame[12] = FRAME_MAGIC >>> 8;
  frame[13] = FRAME_MAGIC;
}
