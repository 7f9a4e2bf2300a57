import fc from "fast-check";
import type { FrameEncryption, MediaFrame, Subsample } from "../av/media-frame.ts";

const u32 = fc.nat({ max: 0xffff_ffff });
const safeTimestamp = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });

/** Subsamples that cover exactly `length` bytes (or none: the whole frame is encrypted). */
function subsamplesCovering(length: number): fc.Arbitrary<Subsample[]> {
  const cuts = fc.uniqueArray(fc.nat({ max: length }), { maxLength: 5 });
  const split = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), {
    minLength: 6,
    maxLength: 6,
  });
  return fc.tuple(cuts, split, fc.boolean()).map(([points, ratios, none]) => {
    if (none) return [];
    const bounds = [0, ...points.sort((a, b) => a - b), length].filter(
      (v, i, all) => i === 0 || v !== all[i - 1],
    );
    const spans = bounds.slice(1).map((end, i) => end - (bounds[i] ?? 0));
    if (spans.length === 0) spans.push(0);
    return spans.map((span, i) => {
      const clearBytes = Math.floor(span * (ratios[i % ratios.length] ?? 0));
      return { clearBytes, encryptedBytes: span - clearBytes };
    });
  });
}

function encryptionFor(length: number): fc.Arbitrary<FrameEncryption> {
  return fc.record(
    {
      cipherMode: fc.constantFrom("cenc" as const, "cbcs" as const),
      keySessionId: u32,
      keyId: fc.uint8Array({ maxLength: 32 }),
      iv: fc.oneof(
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
      ),
      subsamples: subsamplesCovering(length),
      pattern: fc.record({
        cryptByteBlock: fc.integer({ min: 1, max: 255 }),
        skipByteBlock: fc.nat(255),
      }),
    },
    { requiredKeys: ["cipherMode", "keySessionId", "keyId", "iv", "subsamples"] },
  );
}

/** Any valid frame; `maxBytes` bounds the frame data. */
export function mediaFrame(maxBytes = 512): fc.Arbitrary<MediaFrame> {
  return fc.uint8Array({ maxLength: maxBytes }).chain((data) => {
    const base = {
      sourceId: u32,
      timestampNs: safeTimestamp,
      durationNs: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
      data: fc.constant(data),
      codecData: fc.uint8Array({ minLength: 0, maxLength: 64 }),
      encryption: encryptionFor(data.byteLength),
    };
    const optional = {
      requiredKeys: ["sourceId", "timestampNs", "durationNs", "data"] as (
        | "sourceId"
        | "timestampNs"
        | "durationNs"
        | "data"
      )[],
    };
    return fc.oneof(
      fc.record(
        { kind: fc.constant("audio" as const), sampleRate: u32, channels: u32, ...base },
        { requiredKeys: [...optional.requiredKeys, "kind", "sampleRate", "channels"] },
      ),
      fc.record(
        { kind: fc.constant("video" as const), width: u32, height: u32, ...base },
        { requiredKeys: [...optional.requiredKeys, "kind", "width", "height"] },
      ),
      fc.record(
        { kind: fc.constant("subtitle" as const), ...base },
        { requiredKeys: [...optional.requiredKeys, "kind"] },
      ),
    );
  });
}

/** Bytes a region needs to hold `frames` with a table of `maxFrames` entries (generous). */
export function regionSizeFor(frames: readonly MediaFrame[], maxFrames: number): number {
  let size = 16 + maxFrames * 56;
  for (const frame of frames) {
    const crypto = frame.encryption;
    const cryptoSize = crypto
      ? 12 + crypto.keyId.byteLength + crypto.iv.byteLength + 8 * crypto.subsamples.length
      : 0;
    size += frame.data.byteLength + (frame.codecData?.byteLength ?? 0) + cryptoSize + 3 * 8;
  }
  return size;
}
