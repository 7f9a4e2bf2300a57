import { describe, expect, it } from "bun:test";
import type { PcmConfig } from "@rialto/protocol";
import { rejectionOf } from "../test-support/rejection.ts";
import { validatePcmConfig } from "./pcm-format.ts";

const STEREO_S16: PcmConfig = {
  rate: 48_000,
  channels: 2,
  sampleSize: 16,
  isBigEndian: false,
  isSigned: true,
  isFloat: false,
};

const refusal = (pcm: PcmConfig) => rejectionOf(Promise.try(() => validatePcmConfig(pcm)));

describe("validatePcmConfig", () => {
  it("accepts integer, float, big-endian and unsigned formats and computes the frame size", () => {
    const cases: [Partial<PcmConfig>, number][] = [
      [{}, 4],
      [{ channels: 3, sampleSize: 24 }, 9],
      [{ channels: 1, sampleSize: 8, isSigned: false }, 1],
      [{ channels: 6, sampleSize: 32, isFloat: true, isBigEndian: true }, 24],
      [{ channels: 32, sampleSize: 64, isFloat: true }, 256],
      [{ rate: 1 }, 4],
      [{ rate: 768_000 }, 4],
    ];
    for (const [change, frameBytes] of cases) {
      expect(validatePcmConfig({ ...STEREO_S16, ...change }).frameBytes).toBe(frameBytes);
    }
  });

  it("refuses rates, channel counts, sample sizes and flag combinations out of range", async () => {
    const cases: [Partial<PcmConfig>, string][] = [
      [{ rate: 0 }, "rate 0"],
      [{ rate: 768_001 }, "rate 768001"],
      [{ rate: 44_100.5 }, "rate 44100.5"],
      [{ channels: 0 }, "channels 0"],
      [{ channels: 33 }, "channels 33"],
      [{ sampleSize: 12 }, "sampleSize 12"],
      [{ sampleSize: 40 }, "sampleSize 40"],
      [{ sampleSize: 16, isFloat: true }, "float samples of 16 bits"],
      [{ sampleSize: 32, isFloat: true, isSigned: false }, "always signed"],
      [{ isBigEndian: "yes" as unknown as boolean }, "isBigEndian is not a boolean"],
    ];
    for (const [change, message] of cases) {
      const error = await refusal({ ...STEREO_S16, ...change });
      expect([error.code, error.message]).toEqual([
        "INVALID_ARGUMENT",
        expect.stringContaining(message),
      ]);
    }
  });
});
