import { describe, expect, it } from "bun:test";
import {
  type AesMode,
  type ByteRange,
  loadLibcrypto,
  nodeCryptoDecryptor,
} from "./aes-decryptor.ts";
import type { SampleSubsample } from "./decrypt-sample.ts";

const libcrypto = loadLibcrypto();
const reference = nodeCryptoDecryptor();

/** Random non-overlapping runs of `size` bytes, in order; CBC runs are whole blocks. */
function randomRuns(size: number, mode: AesMode): ByteRange[] {
  const runs: ByteRange[] = [];
  let at = 0;
  while (at < size) {
    const clear = Math.floor(Math.random() * 40);
    let length = Math.floor(Math.random() * 300);
    if (mode === "cbc") length -= length % 16;
    const start = Math.min(size, at + clear);
    const end = Math.min(size, start + length);
    if (mode === "cbc" && (end - start) % 16 !== 0) break;
    runs.push([start, end]);
    at = end;
  }
  return runs;
}

/** The runs as CENC subsamples (clear bytes before each run, then the run). */
function subsamplesOf(runs: readonly ByteRange[]): SampleSubsample[] {
  // No runs is one all-clear subsample: an empty list would mean all encrypted.
  if (runs.length === 0) return [{ clearBytes: 0, encryptedBytes: 0 }];
  let at = 0;
  return runs.map(([start, end]) => {
    const subsample = { clearBytes: start - at, encryptedBytes: end - start };
    at = end;
    return subsample;
  });
}

describe.skipIf(libcrypto === undefined)("the libcrypto AES decryptor", () => {
  it("gives node:crypto's bytes for every mode, reusing one context per key across samples of any length", () => {
    const keys = [0, 1, 2].map(() => crypto.getRandomValues(new Uint8Array(16)));
    for (let sample = 0; sample < 600; sample++) {
      const mode: AesMode = sample % 3 === 0 ? "cbc" : "ctr";
      // The same key objects again and again: the cached context must start afresh each time,
      // even after a CTR sample that ended mid-block.
      const key = keys[sample % keys.length] as Uint8Array;
      const iv = crypto.getRandomValues(new Uint8Array(16));
      const data = crypto.getRandomValues(new Uint8Array(1 + Math.floor(Math.random() * 2000)));
      const runs = randomRuns(data.byteLength, mode);
      const expected = new Uint8Array(data);
      reference.decrypt(mode, key, iv, expected, runs);
      const actual = new Uint8Array(data);
      libcrypto?.decrypt(mode, key, iv, actual, runs);
      expect(Buffer.compare(actual, expected)).toBe(0);
      // Out of place: the input untouched, the output the same clear bytes.
      const input = new Uint8Array(data);
      const copied = new Uint8Array(data.byteLength + 7).fill(0xee);
      libcrypto?.decryptCopy(mode, key, iv, input, copied, subsamplesOf(runs));
      expect(Buffer.compare(copied.subarray(0, data.byteLength), expected)).toBe(0);
      expect(Buffer.compare(input, data)).toBe(0);
      expect(copied.subarray(data.byteLength).every((byte) => byte === 0xee)).toBe(true);
    }
  });

  it("refuses runs outside the sample or out of order", () => {
    const key = new Uint8Array(16);
    const iv = new Uint8Array(16);
    const buffer = new Uint8Array(64);
    expect(() => libcrypto?.decrypt("ctr", key, iv, buffer, [[0, 65]])).toThrow(/outside/);
    expect(() =>
      libcrypto?.decrypt("ctr", key, iv, buffer, [
        [32, 48],
        [0, 16],
      ]),
    ).toThrow(/out of order/);
  });

  it("decrypts a whole sample given no subsamples, and refuses subsamples past it or not counts", () => {
    const key = crypto.getRandomValues(new Uint8Array(16));
    const iv = crypto.getRandomValues(new Uint8Array(16));
    const input = crypto.getRandomValues(new Uint8Array(100));
    const expected = new Uint8Array(input);
    reference.decrypt("ctr", key, iv, expected, [[0, 100]]);
    const output = new Uint8Array(100);
    libcrypto?.decryptCopy("ctr", key, iv, input, output, []);
    expect(Buffer.compare(output, expected)).toBe(0);
    const refused = (subsamples: SampleSubsample[]) => () =>
      libcrypto?.decryptCopy("ctr", key, iv, input, new Uint8Array(100), subsamples);
    expect(refused([{ clearBytes: 60, encryptedBytes: 41 }])).toThrow(/past the 100-byte/);
    expect(
      refused([
        { clearBytes: 90, encryptedBytes: 0 },
        { clearBytes: 0, encryptedBytes: 11 },
      ]),
    ).toThrow(/past the 100-byte/);
    expect(refused([{ clearBytes: -8, encryptedBytes: 16 }])).toThrow(/not two byte counts/);
    expect(refused([{ clearBytes: 0.5, encryptedBytes: 16 }])).toThrow(/not two byte counts/);
    expect(refused([{ clearBytes: Number.NaN, encryptedBytes: 16 }])).toThrow(/byte counts/);
    expect(() => libcrypto?.decryptCopy("ctr", key, iv, input, new Uint8Array(99), [])).toThrow(
      /output of 99 bytes < 100/,
    );
  });

  it("decrypts into a view of a larger buffer without touching the bytes around it", () => {
    const key = crypto.getRandomValues(new Uint8Array(16));
    const iv = crypto.getRandomValues(new Uint8Array(16));
    const whole = crypto.getRandomValues(new Uint8Array(256));
    const before = new Uint8Array(whole);
    const view = whole.subarray(64, 128);
    const expected = new Uint8Array(view);
    reference.decrypt("ctr", key, iv, expected, [[5, 60]]);
    libcrypto?.decrypt("ctr", key, iv, view, [[5, 60]]);
    expect(Buffer.compare(view, expected)).toBe(0);
    expect(Buffer.compare(whole.subarray(0, 64), before.subarray(0, 64))).toBe(0);
    expect(Buffer.compare(whole.subarray(128), before.subarray(128))).toBe(0);
  });
});
