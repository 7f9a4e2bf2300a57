import { describe, expect, it } from "bun:test";
import fc from "fast-check";
import { FRAME_ENTRY_SIZE, FRAME_TABLE_HEADER_SIZE } from "../layout.ts";
import { mediaFrame, regionSizeFor } from "../test-support/frame-arbitraries.ts";
import { errorOf } from "../test-support/shm-error-of.ts";
import { readFrames } from "./frame-reader.ts";
import { FrameWriter } from "./frame-writer.ts";
import type { MediaFrame, VideoFrame } from "./media-frame.ts";

const video = (bytes: number, timestampNs = 0): VideoFrame => ({
  kind: "video",
  sourceId: 1,
  timestampNs,
  durationNs: 33_366_667,
  data: new Uint8Array(bytes).fill(timestampNs % 256),
  width: 1920,
  height: 1080,
});

describe("FrameWriter", () => {
  it("round-trips any valid frames through the reader", () => {
    fc.assert(
      fc.property(fc.array(mediaFrame(), { maxLength: 24 }), fc.nat(8), (frames, spare) => {
        const maxFrames = Math.max(1, frames.length + spare);
        const region = new Uint8Array(regionSizeFor(frames, maxFrames));
        const writer = new FrameWriter(region, { maxFrames });
        for (const frame of frames) expect(writer.write(frame)).toBe("ok");
        expect(writer.frameCount).toBe(frames.length);
        expect(readFrames(region, { maxFrames })).toEqual(frames);
      }),
      { numRuns: 500 },
    );
  });

  it("reports no-space when the table is full, keeping the frames already written", () => {
    const region = new Uint8Array(1 << 16);
    const writer = new FrameWriter(region, { maxFrames: 3 });
    for (let i = 0; i < 3; i++) expect(writer.write(video(100, i))).toBe("ok");
    expect(writer.write(video(100, 3))).toBe("no-space");
    expect(readFrames(region, { maxFrames: 3 }).map((frame) => frame.timestampNs)).toEqual([
      0, 1, 2,
    ]);
  });

  it("reports no-space when the bytes do not fit, writes nothing, and still takes a smaller frame", () => {
    const region = new Uint8Array(4096);
    const writer = new FrameWriter(region, { maxFrames: 24 });
    const tableEnd = FRAME_TABLE_HEADER_SIZE + 24 * FRAME_ENTRY_SIZE;
    expect(writer.write(video(1000, 1))).toBe("ok");
    const used = writer.bytesUsed;
    expect(used).toBe(tableEnd + 1000);
    expect(writer.write(video(4096 - used + 1, 2))).toBe("no-space");
    expect(writer.bytesUsed).toBe(used);
    expect(writer.frameCount).toBe(1);
    expect(writer.write(video(4096 - used, 3))).toBe("ok");
    expect(writer.bytesUsed).toBe(4096);
    expect(readFrames(region, { maxFrames: 24 }).map((frame) => frame.data.byteLength)).toEqual([
      1000,
      4096 - used,
    ]);
  });

  it("starts a new table on creation", () => {
    const region = new Uint8Array(8192);
    new FrameWriter(region, { maxFrames: 4 }).write(video(10));
    new FrameWriter(region, { maxFrames: 4 });
    expect(readFrames(region, { maxFrames: 4 })).toEqual([]);
  });

  it("rejects invalid frames with INVALID_ARGUMENT naming the value", () => {
    const writer = new FrameWriter(new Uint8Array(8192), { maxFrames: 4 });
    const base = video(16);
    const cases: [MediaFrame, string][] = [
      [{ ...base, timestampNs: 1.5 }, "timestamp 1.5 ns"],
      [{ ...base, durationNs: -1 }, "duration -1 ns"],
      [{ ...base, sourceId: -1 }, "source id -1"],
      [{ ...base, width: 2 ** 32 }, "width 4294967296"],
      [{ ...base, kind: "other" } as unknown as MediaFrame, 'kind "other"'],
      [
        {
          ...base,
          encryption: {
            cipherMode: "cenc",
            keySessionId: 1,
            keyId: new Uint8Array(16),
            iv: new Uint8Array(12),
            subsamples: [],
          },
        },
        "IV of 12 bytes",
      ],
      [
        {
          ...base,
          encryption: {
            cipherMode: "cbcs",
            keySessionId: 1,
            keyId: new Uint8Array(16),
            iv: new Uint8Array(16),
            subsamples: [{ clearBytes: 4, encryptedBytes: 4 }],
          },
        },
        "subsamples cover 8 bytes of a 16-byte frame",
      ],
      [
        {
          ...base,
          encryption: {
            cipherMode: "cens" as "cenc",
            keySessionId: 1,
            keyId: new Uint8Array(0),
            iv: new Uint8Array(8),
            subsamples: [],
          },
        },
        'cipher mode "cens"',
      ],
    ];
    for (const [frame, message] of cases) {
      const error = errorOf(() => writer.write(frame));
      expect(error.code).toBe("INVALID_ARGUMENT");
      expect(error.message).toContain(message);
    }
    expect(writer.frameCount).toBe(0);
  });

  it("rejects a table that cannot fit its region", () => {
    expect(
      errorOf(() => new FrameWriter(new Uint8Array(100), { maxFrames: 24 })).message,
    ).toContain("needs 1360 bytes; the region has 100");
    expect(errorOf(() => new FrameWriter(new Uint8Array(100), { maxFrames: 0 })).code).toBe(
      "INVALID_ARGUMENT",
    );
  });
});
