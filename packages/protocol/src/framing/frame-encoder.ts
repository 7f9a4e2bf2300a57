import { RialtoError } from "../errors.ts";
import {
  DEFAULT_MAX_FRAME_LENGTH,
  FRAME_HEADER_LENGTH,
  FrameEncoding,
  type FrameType,
  writeFrameHeader,
} from "./frame-header.ts";

const textEncoder = new TextEncoder();

/** Builds one frame around an already encoded body. Throws PROTOCOL_ERROR past `maxFrameLength`. */
export function encodeFrame(
  type: FrameType,
  body: Uint8Array,
  maxFrameLength = DEFAULT_MAX_FRAME_LENGTH,
): Uint8Array {
  assertFits(body.byteLength, maxFrameLength);
  const frame = new Uint8Array(FRAME_HEADER_LENGTH + body.byteLength);
  writeFrameHeader(frame, type, body.byteLength, FrameEncoding.Json);
  frame.set(body, FRAME_HEADER_LENGTH);
  return frame;
}

/** Serialises `value` as JSON into one frame. Throws PROTOCOL_ERROR past `maxFrameLength`. */
export function encodeJsonFrame(
  type: FrameType,
  value: unknown,
  maxFrameLength = DEFAULT_MAX_FRAME_LENGTH,
): Uint8Array {
  return encodeFrame(type, textEncoder.encode(JSON.stringify(value)), maxFrameLength);
}

function assertFits(bodyLength: number, maxFrameLength: number): void {
  if (bodyLength > maxFrameLength) {
    throw new RialtoError(
      "PROTOCOL_ERROR",
      `message of ${bodyLength} bytes exceeds the maximum frame length of ${maxFrameLength} bytes`,
      { details: { bodyLength, maxFrameLength } },
    );
  }
}
