import { describe, expect, it } from "bun:test";
import {
  type AesMode,
  type ByteRange,
  loadLibcrypto,
  nodeCryptoDecryptor,
} from "./aes-decryptor.ts";

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
      libcrypto?.decryptCopy(mode, key, iv, input, copied, runs);
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
