import { describeValue, type PcmConfig, RialtoError } from "@rialto/protocol";

/** Sample sizes in bits a player accepts. */
export const PCM_SAMPLE_SIZES: readonly number[] = [8, 16, 24, 32, 64];

/** Largest PCM rate in frames per second. */
export const MAX_PCM_RATE = 768_000;

/** Most interleaved channels. */
export const MAX_PCM_CHANNELS = 32;

/** A validated PCM format with its frame size. */
export interface PcmFormat extends PcmConfig {
  /** Bytes of one frame: channels × sampleSize / 8 (e.g. 9 for 3-channel 24-bit). */
  readonly frameBytes: number;
}

function invalid(pcm: unknown, problem: string): never {
  throw new RialtoError(
    "INVALID_ARGUMENT",
    `createWebAudioPlayer: pcm ${describeValue(pcm)}: ${problem}`,
  );
}

/**
 * Checks a PCM config (Rialto's WebAudioPcmConfig) and returns it with its frame size: rate an
 * integer 1 .. 768000 frames/s, channels 1 .. 32 (interleaved), sampleSize 8, 16, 24, 32 or 64
 * bits, the three flags booleans; float samples must be 32 or 64 bits and signed. Anything else is
 * `INVALID_ARGUMENT` naming the config and the field.
 */
export function validatePcmConfig(pcm: PcmConfig): PcmFormat {
  const { rate, channels, sampleSize, isBigEndian, isSigned, isFloat } = pcm;
  if (!Number.isInteger(rate) || rate < 1 || rate > MAX_PCM_RATE) {
    invalid(pcm, `rate ${rate} is not an integer 1 .. ${MAX_PCM_RATE}`);
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > MAX_PCM_CHANNELS) {
    invalid(pcm, `channels ${channels} is not an integer 1 .. ${MAX_PCM_CHANNELS}`);
  }
  if (!PCM_SAMPLE_SIZES.includes(sampleSize)) {
    invalid(pcm, `sampleSize ${sampleSize} is not one of ${PCM_SAMPLE_SIZES.join(", ")} bits`);
  }
  for (const [name, value] of Object.entries({ isBigEndian, isSigned, isFloat })) {
    if (typeof value !== "boolean") invalid(pcm, `${name} is not a boolean`);
  }
  if (isFloat && sampleSize !== 32 && sampleSize !== 64) {
    invalid(pcm, `float samples of ${sampleSize} bits (only 32 or 64)`);
  }
  if (isFloat && !isSigned) invalid(pcm, "float samples are always signed");
  return {
    rate,
    channels,
    sampleSize,
    isBigEndian,
    isSigned,
    isFloat,
    frameBytes: (channels * sampleSize) / 8,
  };
}
