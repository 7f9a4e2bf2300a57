import { describe, expect, it } from "bun:test";
import fc from "fast-check";
import { RialtoError } from "../errors.ts";
import { type Frame, FrameDecoder } from "./frame-decoder.ts";
import { encodeFrame, encodeJsonFrame } from "./frame-encoder.ts";
import { FRAME_HEADER_LENGTH, FrameType } from "./frame-header.ts";

const frameTypes = fc.constantFrom(
  FrameType.Request,
  FrameType.Response,
  FrameType.Event,
  FrameType.Notice,
);
const bodies = fc.uint8Array({ maxLength: 300 });

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** Cuts `bytes` at the given (sorted, deduplicated) positions. */
function cut(bytes: Uint8Array, positions: number[]): Uint8Array[] {
  const points = [...new Set(positions.map((p) => p % (bytes.byteLength + 1)))].sort(
    (a, b) => a - b,
  );
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.byteLength]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

function decodeAll(chunks: Uint8Array[], maxFrameLength?: number) {
  const decoder = new FrameDecoder(maxFrameLength === undefined ? {} : { maxFrameLength });
  const frames: { type: number; body: number[] }[] = [];
  const onFrame = (frame: Frame) => frames.push({ type: frame.type, body: [...frame.body] });
  let error: RialtoError | undefined;
  for (const chunk of chunks) error ??= decoder.push(chunk, onFrame);
  error ??= decoder.finish();
  return { frames, error };
}

describe("FrameDecoder", () => {
  it("decodes any split or coalescing of valid frames to the same messages", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(frameTypes, bodies), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (messages, positions) => {
          const stream = concat(messages.map(([type, body]) => encodeFrame(type, body)));
          const { frames, error } = decodeAll(cut(stream, positions));
          expect(error).toBeUndefined();
          expect(frames).toEqual(messages.map(([type, body]) => ({ type, body: [...body] })));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("decodes a stream fed one byte at a time", () => {
    const stream = concat([
      encodeJsonFrame(FrameType.Event, { a: 1 }),
      encodeJsonFrame(FrameType.Request, { b: "x" }),
    ]);
    const chunks = [...stream].map((byte) => Uint8Array.of(byte));
    const { frames, error } = decodeAll(chunks);
    expect(error).toBeUndefined();
    expect(frames.map((f) => JSON.parse(Buffer.from(f.body).toString()))).toEqual([
      { a: 1 },
      { b: "x" },
    ]);
  });

  it("never throws on random bytes: it yields frames or a PROTOCOL_ERROR", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
        const { error } = decodeAll(chunks);
        if (error !== undefined) {
          expect(error).toBeInstanceOf(RialtoError);
          expect(error.code).toBe("PROTOCOL_ERROR");
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws on valid streams with random bytes overwritten", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(frameTypes, bodies), { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (messages, mutations, positions) => {
          const stream = concat(messages.map(([type, body]) => encodeFrame(type, body)));
          for (const [at, value] of mutations) stream[at % stream.byteLength] = value;
          const { frames, error } = decodeAll(cut(stream, positions));
          expect(frames.length).toBeLessThanOrEqual(messages.length + stream.byteLength);
          if (error !== undefined) expect(error.code).toBe("PROTOCOL_ERROR");
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("reports a stream truncated inside a frame as PROTOCOL_ERROR", () => {
    fc.assert(
      fc.property(frameTypes, bodies, fc.nat(), (type, body, at) => {
        const frame = encodeFrame(type, body);
        const length = at % frame.byteLength; // strictly shorter than the frame
        const { frames, error } = decodeAll([frame.subarray(0, length)]);
        expect(frames).toEqual([]);
        if (length === 0) expect(error).toBeUndefined();
        else expect(error?.code).toBe("PROTOCOL_ERROR");
      }),
      { numRuns: 500 },
    );
  });

  it("rejects a length over the maximum from the header alone, before buffering the body", () => {
    const decoder = new FrameDecoder({ maxFrameLength: 1024 });
    const header = encodeFrame(FrameType.Event, new Uint8Array(2048), 4096).subarray(
      0,
      FRAME_HEADER_LENGTH,
    );
    const error = decoder.push(header, () => {});
    expect(error?.code).toBe("PROTOCOL_ERROR");
    expect(error?.message).toContain("2048 bytes exceeds the maximum of 1024");
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("holds only about what arrived of a large announced frame, however it is dribbled", () => {
    const decoder = new FrameDecoder();
    const frame = encodeFrame(FrameType.Request, new Uint8Array(1024 * 1024 - 1), 1024 * 1024);
    // Header and 100 bytes: the announced megabyte is not allocated.
    decoder.push(frame.subarray(0, FRAME_HEADER_LENGTH + 100), () => {});
    expect(decoder.bufferedBytes).toBe(FRAME_HEADER_LENGTH + 100);
    expect(decoder.retainedBytes).toBeLessThanOrEqual(4096);
    // One byte at a time: gathered in 4 KiB pieces, never much more than what arrived.
    let offset = FRAME_HEADER_LENGTH + 100;
    for (; offset < 20_000; offset++) decoder.push(frame.subarray(offset, offset + 1), () => {});
    expect(decoder.retainedBytes).toBeLessThanOrEqual(offset + 4096);
    const frames: Frame[] = [];
    decoder.push(frame.subarray(offset), (decoded) => frames.push(decoded));
    expect(frames.map((decoded) => decoded.body.byteLength)).toEqual([1024 * 1024 - 1]);
    expect(decoder.retainedBytes).toBe(0);
  });

  it("drops a body that nests too deep as it arrives, keeping nothing of it, and still delivers the frame", () => {
    const decoder = new FrameDecoder({ maxJsonDepth: 64 });
    const deep = new TextEncoder().encode(`${"[".repeat(100_000)}${"]".repeat(100_000)}`);
    const frame = encodeFrame(FrameType.Request, deep, 1024 * 1024);
    const next = encodeJsonFrame(FrameType.Request, { id: 2, method: "m", params: [[[1]]] });
    const frames: Frame[] = [];
    for (let offset = 0; offset < frame.byteLength; offset += 1000) {
      decoder.push(frame.subarray(offset, offset + 1000), (decoded) => frames.push(decoded));
      expect(decoder.retainedBytes).toBeLessThanOrEqual(4096 + FRAME_HEADER_LENGTH);
    }
    decoder.push(next, (decoded) => frames.push(decoded));
    expect(frames.map((f) => [f.type, f.tooDeep ?? false, f.body.byteLength])).toEqual([
      [FrameType.Request, true, 0],
      [FrameType.Request, false, next.byteLength - FRAME_HEADER_LENGTH],
    ]);
    // Whole in one chunk too; brackets inside strings do not count.
    const inString = encodeJsonFrame(FrameType.Event, { text: "[".repeat(1000) });
    decoder.push(Buffer.concat([frame, inString]), (decoded) => frames.push(decoded));
    expect(frames.slice(2).map((f) => f.tooDeep ?? false)).toEqual([true, false]);
  });

  it("applies a changed maximum from the next header on", () => {
    const decoder = new FrameDecoder({ maxFrameLength: 100 });
    const frames: Frame[] = [];
    expect(
      decoder.push(encodeFrame(FrameType.Event, new Uint8Array(50)), (f) => frames.push(f)),
    ).toBe(undefined);
    decoder.maxFrameLength = 4096;
    decoder.push(encodeFrame(FrameType.Event, new Uint8Array(1000)), (f) => frames.push(f));
    expect(frames.map((f) => f.body.byteLength)).toEqual([50, 1000]);
  });

  it("rejects a bad magic, an unknown version, type or encoding", () => {
    const good = encodeJsonFrame(FrameType.Event, { ok: true });
    const corrupt = (offset: number, value: number) => {
      const bytes = good.slice();
      bytes[offset] = value;
      return decodeAll([bytes]).error?.message;
    };
    expect(corrupt(10, 0)).toContain("bad frame magic");
    expect(corrupt(7, 9)).toContain("unsupported frame version 9");
    expect(corrupt(9, 77)).toContain("unknown frame type 77");
    expect(corrupt(5, 3)).toContain("unknown frame encoding 3");
  });

  it("stays failed after an error", () => {
    const decoder = new FrameDecoder();
    const first = decoder.push(new Uint8Array(20).fill(0xff), () => {});
    const frames: Frame[] = [];
    const second = decoder.push(encodeJsonFrame(FrameType.Event, {}), (f) => frames.push(f));
    expect(second).toBe(first as RialtoError);
    expect(frames).toEqual([]);
  });

  it("refuses to encode a body over the maximum", () => {
    expect(() => encodeFrame(FrameType.Event, new Uint8Array(11), 10)).toThrow(
      "message of 11 bytes exceeds the maximum frame length of 10 bytes",
    );
  });
});
