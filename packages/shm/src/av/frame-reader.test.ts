import { describe, expect, it } from "bun:test";
import fc from "fast-check";
import { ShmError } from "../errors.ts";
import {
  FRAME_ENTRY_CRYPTO_LENGTH,
  FRAME_ENTRY_DATA_LENGTH,
  FRAME_ENTRY_DATA_OFFSET,
  FRAME_ENTRY_FLAGS,
  FRAME_ENTRY_KIND,
  FRAME_ENTRY_SIZE,
  FRAME_TABLE_CAPACITY_OFFSET,
  FRAME_TABLE_COUNT_OFFSET,
  FRAME_TABLE_HEADER_SIZE,
  FRAME_TABLE_MAGIC_OFFSET,
  FRAME_TABLE_VERSION_OFFSET,
} from "../layout.ts";
import { mediaFrame, regionSizeFor } from "../test-support/frame-arbitraries.ts";
import { errorOf } from "../test-support/shm-error-of.ts";
import { readFrames } from "./frame-reader.ts";
import { FrameWriter } from "./frame-writer.ts";
import type { MediaFrame } from "./media-frame.ts";

const GUARD = 64;
const ENTRY = (index: number) => FRAME_TABLE_HEADER_SIZE + index * FRAME_ENTRY_SIZE;

/** A region in the middle of a larger buffer, so a view past its edges would be visible. */
function regionOf(bytes: Uint8Array): Uint8Array {
  const backing = new Uint8Array(bytes.byteLength + 2 * GUARD).fill(0xee);
  backing.set(bytes, GUARD);
  return backing.subarray(GUARD, GUARD + bytes.byteLength);
}

function writtenRegion(frames: readonly MediaFrame[], maxFrames: number): Uint8Array {
  const region = regionOf(new Uint8Array(regionSizeFor(frames, maxFrames)));
  const writer = new FrameWriter(region, { maxFrames });
  for (const frame of frames) writer.write(frame);
  return region;
}

/**
 * The fuzzing oracle: either a typed error of the reader's three kinds, or frames whose
 * every view lies inside the region's data area and whose fields are in range.
 */
function expectFramesOrTypedError(region: Uint8Array, maxFrames: number): void {
  let frames: MediaFrame[];
  try {
    frames = readFrames(region, { maxFrames });
  } catch (error) {
    if (!(error instanceof ShmError)) throw error;
    expect(["BAD_METADATA", "OUT_OF_BOUNDS", "UNSUPPORTED_VERSION"]).toContain(error.code);
    return;
  }
  expect(frames.length).toBeLessThanOrEqual(maxFrames);
  const capacity = new DataView(region.buffer, region.byteOffset).getUint32(
    FRAME_TABLE_CAPACITY_OFFSET,
    true,
  );
  const dataStart = region.byteOffset + FRAME_TABLE_HEADER_SIZE + capacity * FRAME_ENTRY_SIZE;
  const views = frames.flatMap((frame) => [
    frame.data,
    ...(frame.codecData ? [frame.codecData] : []),
    ...(frame.encryption ? [frame.encryption.keyId, frame.encryption.iv] : []),
  ]);
  for (const view of views) {
    expect(view.buffer).toBe(region.buffer);
    expect(view.byteOffset).toBeGreaterThanOrEqual(dataStart);
    expect(view.byteOffset + view.byteLength).toBeLessThanOrEqual(
      region.byteOffset + region.byteLength,
    );
  }
  for (const [index, frame] of frames.entries()) {
    const declared = new DataView(region.buffer, region.byteOffset).getUint32(
      ENTRY(index) + FRAME_ENTRY_DATA_LENGTH,
      true,
    );
    expect(frame.data.byteLength).toBe(declared);
    expect(Number.isSafeInteger(frame.timestampNs)).toBe(true);
    expect(frame.durationNs).toBeGreaterThanOrEqual(0);
    const subsamples = frame.encryption?.subsamples ?? [];
    const covered = subsamples.reduce((sum, s) => sum + s.clearBytes + s.encryptedBytes, 0);
    if (subsamples.length > 0) expect(covered).toBe(frame.data.byteLength);
  }
}

describe("readFrames", () => {
  const sample: MediaFrame = {
    kind: "audio",
    sourceId: 2,
    timestampNs: 1_000_000_000,
    durationNs: 21_333_333,
    data: new Uint8Array([1, 2, 3, 4]),
    sampleRate: 48000,
    channels: 2,
  };

  it("returns views into the region, not copies", () => {
    const region = writtenRegion([sample], 3);
    const [frame] = readFrames(region, { maxFrames: 3 });
    expect(frame?.data.buffer).toBe(region.buffer);
    region[(frame?.data.byteOffset ?? 0) - region.byteOffset] = 99;
    expect(frame?.data[0]).toBe(99);
  });

  it("refuses another version with UNSUPPORTED_VERSION and a wrong magic with BAD_METADATA", () => {
    const region = writtenRegion([sample], 3);
    const view = new DataView(region.buffer, region.byteOffset);
    view.setUint16(FRAME_TABLE_VERSION_OFFSET, 2, true);
    expect(errorOf(() => readFrames(region, { maxFrames: 3 })).message).toContain(
      "version 2 is not 1",
    );
    view.setUint32(FRAME_TABLE_MAGIC_OFFSET, 0x12345678, true);
    expect(errorOf(() => readFrames(region, { maxFrames: 3 })).message).toContain(
      "magic 0x12345678",
    );
  });

  it("refuses more frames than requested or than the table holds", () => {
    const region = writtenRegion([sample, sample, sample], 3);
    expect(errorOf(() => readFrames(region, { maxFrames: 2 })).message).toContain(
      "frame count 3 exceeds the 2 frames requested",
    );
    const view = new DataView(region.buffer, region.byteOffset);
    view.setUint32(FRAME_TABLE_COUNT_OFFSET, 4, true);
    expect(errorOf(() => readFrames(region, { maxFrames: 24 })).message).toContain(
      "exceeds the table capacity 3",
    );
    view.setUint32(FRAME_TABLE_CAPACITY_OFFSET, 0xffff_ffff, true);
    expect(errorOf(() => readFrames(region, { maxFrames: 24 })).message).toContain(
      "capacity 4294967295 does not fit",
    );
  });

  it("refuses frame bytes outside the data area with OUT_OF_BOUNDS", () => {
    const region = writtenRegion([sample], 3);
    const view = new DataView(region.buffer, region.byteOffset);
    for (const [offset, length] of [
      [0, 4],
      [ENTRY(2), 4],
      [region.byteLength - 2, 4],
      [0xffff_ffff, 1],
      [ENTRY(3), 0xffff_ffff],
    ] as const) {
      view.setUint32(ENTRY(0) + FRAME_ENTRY_DATA_OFFSET, offset, true);
      view.setUint32(ENTRY(0) + FRAME_ENTRY_DATA_LENGTH, length, true);
      const error = errorOf(() => readFrames(region, { maxFrames: 3 }));
      expect(error.code).toBe("OUT_OF_BOUNDS");
      expect(error.message).toContain(`offset ${offset}, length ${length}`);
    }
  });

  it("refuses unknown kinds, unknown flags and fields that contradict the flags", () => {
    const mutate = (at: number, value: number, message: string) => {
      const region = writtenRegion([sample], 3);
      new DataView(region.buffer, region.byteOffset).setUint8(ENTRY(0) + at, value);
      expect(errorOf(() => readFrames(region, { maxFrames: 3 })).message).toContain(message);
    };
    mutate(FRAME_ENTRY_KIND, 9, "unknown media kind 9");
    mutate(FRAME_ENTRY_FLAGS, 0x80, "unknown flags 0x80");
    mutate(FRAME_ENTRY_CRYPTO_LENGTH, 5, "encryption fields set without the encrypted flag");
  });

  it("refuses an encryption record whose length or subsamples do not add up", () => {
    const encrypted: MediaFrame = {
      ...sample,
      encryption: {
        cipherMode: "cenc",
        keySessionId: 1,
        keyId: new Uint8Array(16),
        iv: new Uint8Array(8),
        subsamples: [{ clearBytes: 1, encryptedBytes: 3 }],
      },
    };
    const region = writtenRegion([encrypted], 3);
    const view = new DataView(region.buffer, region.byteOffset);
    const [frame] = readFrames(region, { maxFrames: 3 });
    const subsampleAt = (frame?.encryption?.iv.byteOffset ?? 0) - region.byteOffset + 8;
    view.setUint32(subsampleAt, 2, true);
    expect(errorOf(() => readFrames(region, { maxFrames: 3 })).message).toContain(
      "subsamples cover 5 bytes of 4",
    );
    view.setUint32(ENTRY(0) + FRAME_ENTRY_CRYPTO_LENGTH, 12 + 16 + 8, true);
    expect(errorOf(() => readFrames(region, { maxFrames: 3 })).message).toContain(
      "its fields need 44",
    );
  });

  it("turns any byte pattern into frames or a typed error (random regions)", () => {
    const header = fc.tuple(fc.nat(64), fc.nat(4), fc.boolean()).map(([count, capacity, valid]) => {
      const bytes = new Uint8Array(FRAME_TABLE_HEADER_SIZE);
      const view = new DataView(bytes.buffer);
      view.setUint32(FRAME_TABLE_MAGIC_OFFSET, valid ? 0x544d4652 : count, true);
      view.setUint16(FRAME_TABLE_VERSION_OFFSET, 1, true);
      view.setUint32(FRAME_TABLE_COUNT_OFFSET, count % (capacity + 1), true);
      view.setUint32(FRAME_TABLE_CAPACITY_OFFSET, capacity, true);
      return bytes;
    });
    fc.assert(
      fc.property(
        fc.option(header),
        fc.uint8Array({ maxLength: 1024 }),
        fc.nat(30),
        (prefix, body, maxFrames) => {
          const bytes = new Uint8Array((prefix?.byteLength ?? 0) + body.byteLength);
          if (prefix) bytes.set(prefix);
          bytes.set(body, prefix?.byteLength ?? 0);
          expectFramesOrTypedError(regionOf(bytes), maxFrames);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("turns any mutation of a valid table into frames or a typed error", () => {
    const interesting = fc.oneof(
      fc.constantFrom(0, 1, 8, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff),
      fc.nat({ max: 0xffff_ffff }),
      fc.nat(4096),
    );
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant("byte" as const), at: fc.nat(), value: fc.nat(255) }),
      fc.record({ kind: fc.constant("u32" as const), at: fc.nat(), value: interesting }),
    );
    fc.assert(
      fc.property(
        fc.array(mediaFrame(64), { minLength: 1, maxLength: 6 }),
        fc.array(mutation, { minLength: 1, maxLength: 8 }),
        (frames, mutations) => {
          const region = writtenRegion(frames, frames.length);
          const view = new DataView(region.buffer, region.byteOffset, region.byteLength);
          const tableEnd = ENTRY(frames.length);
          for (const { kind, at, value } of mutations) {
            // Mostly the header and table; sometimes the data area (encryption records).
            const limit = at % 4 === 0 ? region.byteLength : tableEnd;
            if (kind === "byte") view.setUint8(at % limit, value);
            else view.setUint32(Math.min(at % limit, region.byteLength - 4) & ~3, value, true);
          }
          expectFramesOrTypedError(region, frames.length);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
