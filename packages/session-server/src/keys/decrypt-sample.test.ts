import { describe, expect, it } from "bun:test";
import { randomBytes } from "node:crypto";
import type { FrameEncryption } from "@rialto/shm";
import fc from "fast-check";
import { rejectionOf } from "../test-support/rejection.ts";
import {
  DECRYPTION_PLAYBACK_ERROR,
  decryptSample,
  type SampleEncryption,
} from "./decrypt-sample.ts";
import type { KeyStore } from "./media-keys.ts";
import { referenceEncrypt } from "./test-support/reference-encryption.ts";

const KEY_ID = Uint8Array.fromHex("0123456789abcdef0123456789abcdef");

/** A key store holding one key under KEY_ID. */
function storeWith(key: Uint8Array): KeyStore {
  return { findKey: (keyId) => (Buffer.compare(keyId, KEY_ID) === 0 ? key : undefined) };
}

const thrown = (run: () => unknown) => rejectionOf(Promise.try(run));

/** Splits `size` bytes into clear/encrypted pairs at the given cut points. */
function subsamplesFrom(size: number, cuts: number[]) {
  const points = [...new Set(cuts.map((cut) => cut % (size + 1)))].sort((a, b) => a - b);
  const edges = [0, ...points, size];
  const subsamples = [];
  for (let i = 0; i + 2 < edges.length; i += 2) {
    const [a, b, c] = [edges[i] ?? 0, edges[i + 1] ?? 0, edges[i + 2] ?? 0];
    subsamples.push({ clearBytes: b - a, encryptedBytes: c - b });
  }
  const covered = subsamples.reduce((sum, s) => sum + s.clearBytes + s.encryptedBytes, 0);
  if (covered < size) subsamples.push({ clearBytes: size - covered, encryptedBytes: 0 });
  return subsamples;
}

describe("decryptSample against the NIST SP 800-38A AES-128 vectors", () => {
  const key = Uint8Array.fromHex("2b7e151628aed2a6abf7158809cf4f3c");
  const plain = Uint8Array.fromHex(
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51" +
      "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
  );

  it("decrypts the F.5.1 CTR ciphertext as one cenc sample", () => {
    const cipher = Uint8Array.fromHex(
      "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff" +
        "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee",
    );
    const iv = Uint8Array.fromHex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
    const encryption = { cipherMode: "cenc", keyId: KEY_ID, iv, subsamples: [] };
    expect(decryptSample(cipher, encryption, storeWith(key)).toHex()).toBe(plain.toHex());
  });

  it("decrypts the F.2.1 CBC ciphertext as one cbcs sample without a pattern", () => {
    const cipher = Uint8Array.fromHex(
      "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2" +
        "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7",
    );
    const iv = Uint8Array.fromHex("000102030405060708090a0b0c0d0e0f");
    const encryption = { cipherMode: "cbcs", keyId: KEY_ID, iv, subsamples: [] };
    expect(decryptSample(cipher, encryption, storeWith(key)).toHex()).toBe(plain.toHex());
  });
});

describe("decryptSample against the reference encryption", () => {
  const key = randomBytes(16);
  const keys = storeWith(key);

  it("decrypts cenc with an 8-byte IV across subsamples whose encrypted parts end mid-block", () => {
    const plain = randomBytes(1001);
    const subsamples = [
      { clearBytes: 5, encryptedBytes: 37 },
      { clearBytes: 0, encryptedBytes: 3 },
      { clearBytes: 100, encryptedBytes: 800 },
      { clearBytes: 56, encryptedBytes: 0 },
    ];
    const iv = randomBytes(8);
    const cipher = referenceEncrypt(plain, { scheme: "cenc", key, iv, subsamples });
    const encryption = { cipherMode: "cenc", keyId: KEY_ID, iv, subsamples };
    expect(Buffer.compare(decryptSample(cipher, encryption, keys), plain)).toBe(0);
  });

  it("decrypts cbcs 1:9 with subsamples, leaving partial trailing blocks and skipped blocks clear", () => {
    const plain = randomBytes(2000);
    const subsamples = [
      { clearBytes: 7, encryptedBytes: 16 * 23 + 5 },
      { clearBytes: 33, encryptedBytes: 1000 },
      { clearBytes: 2000 - 7 - 373 - 33 - 1000, encryptedBytes: 0 },
    ];
    const iv = randomBytes(16);
    const pattern = { cryptByteBlock: 1, skipByteBlock: 9 };
    const cipher = referenceEncrypt(plain, { scheme: "cbcs", key, iv, subsamples, pattern });
    // Block 0 of the first subsample is encrypted; its partial tail (5 bytes) is not.
    expect(Buffer.compare(cipher.subarray(7, 23), plain.subarray(7, 23))).not.toBe(0);
    expect(Buffer.compare(cipher.subarray(375, 380), plain.subarray(375, 380))).toBe(0);
    const encryption = { cipherMode: "cbcs", keyId: KEY_ID, iv, subsamples, pattern };
    expect(Buffer.compare(decryptSample(cipher, encryption, keys), plain)).toBe(0);
  });

  it("leaves clear a last pattern group of fewer than crypt blocks (2:8 ending in one full block), as Shaka Packager writes and ffmpeg reads", () => {
    // 11 full blocks + 3 bytes: blocks 0-1 encrypted, 2-9 skipped, block 10 alone (fewer than
    // the 2 of the crypt group) stays clear, as does the partial tail.
    const plain = randomBytes(4 + 16 * 11 + 3);
    const subsamples = [{ clearBytes: 4, encryptedBytes: 16 * 11 + 3 }];
    const iv = randomBytes(16);
    const pattern = { cryptByteBlock: 2, skipByteBlock: 8 };
    const cipher = referenceEncrypt(plain, { scheme: "cbcs", key, iv, subsamples, pattern });
    expect(Buffer.compare(cipher.subarray(4, 36), plain.subarray(4, 36))).not.toBe(0);
    expect(Buffer.compare(cipher.subarray(36, 4 + 16 * 11), plain.subarray(36, 4 + 16 * 11))).toBe(
      0,
    );
    const encryption = { cipherMode: "cbcs", keyId: KEY_ID, iv, subsamples, pattern };
    expect(Buffer.compare(decryptSample(cipher, encryption, keys), plain)).toBe(0);
    // With 12 full blocks the last group is whole (blocks 10-11) and is encrypted.
    const longer = randomBytes(4 + 16 * 12);
    const whole = [{ clearBytes: 4, encryptedBytes: 16 * 12 }];
    const encrypted = referenceEncrypt(longer, {
      scheme: "cbcs",
      key,
      iv,
      subsamples: whole,
      pattern,
    });
    expect(Buffer.compare(encrypted.subarray(164, 196), longer.subarray(164, 196))).not.toBe(0);
    const both = { ...encryption, subsamples: whole };
    expect(Buffer.compare(decryptSample(encrypted, both, keys), longer)).toBe(0);
  });

  it("round-trips random samples, subsample layouts, IV sizes and patterns of both schemes", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 700 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.constantFrom("cenc" as const, "cbcs" as const),
        fc.boolean(),
        fc.integer({ min: 0, max: 15 }),
        fc.integer({ min: 0, max: 15 }),
        (plain, cuts, scheme, shortIv, crypt, skip) => {
          const subsamples = cuts.length === 0 ? [] : subsamplesFrom(plain.byteLength, cuts);
          const iv = randomBytes(scheme === "cenc" && shortIv ? 8 : 16);
          const pattern =
            scheme === "cbcs"
              ? { cryptByteBlock: crypt === 0 ? 0 : crypt, skipByteBlock: crypt === 0 ? 0 : skip }
              : undefined;
          const cipher = referenceEncrypt(plain, { scheme, key, iv, subsamples, pattern });
          const encryption = { cipherMode: scheme, keyId: KEY_ID, iv, subsamples, pattern };
          expect(decryptSample(cipher, encryption, keys).toHex()).toBe(plain.toHex());
        },
      ),
      { numRuns: 300 },
    );
  });

  it("gives other bytes with a wrong key", () => {
    const plain = randomBytes(333);
    const iv = randomBytes(16);
    for (const scheme of ["cenc", "cbcs"] as const) {
      const cipher = referenceEncrypt(plain, { scheme, key, iv, subsamples: [] });
      const encryption = { cipherMode: scheme, keyId: KEY_ID, iv, subsamples: [] };
      const wrong = decryptSample(cipher, encryption, storeWith(randomBytes(16)));
      expect(Buffer.compare(wrong, plain)).not.toBe(0);
    }
  });

  it("decrypts into a scratch buffer and leaves the input untouched", () => {
    const plain = randomBytes(100);
    const iv = randomBytes(16);
    const cipher = referenceEncrypt(plain, { scheme: "cenc", key, iv, subsamples: [] });
    const before = new Uint8Array(cipher);
    const scratch = new Uint8Array(4096);
    const encryption = { cipherMode: "cenc", keyId: KEY_ID, iv, subsamples: [] };
    const result = decryptSample(cipher, encryption, keys, scratch);
    expect(result.buffer).toBe(scratch.buffer);
    expect(result.byteLength).toBe(100);
    expect(Buffer.compare(result, plain)).toBe(0);
    expect(Buffer.compare(cipher, before)).toBe(0);
  });
});

describe("decryptSample refusals", () => {
  const keys = storeWith(randomBytes(16));
  const base: SampleEncryption = {
    cipherMode: "cenc",
    keyId: KEY_ID,
    iv: new Uint8Array(16),
    subsamples: [],
  };

  it("accepts the frame encryption of @rialto/shm as it is", () => {
    const fromShm: FrameEncryption = { ...base, cipherMode: "cenc", keySessionId: 7 };
    const input: SampleEncryption = fromShm;
    expect(decryptSample(new Uint8Array(3), input, keys).byteLength).toBe(3);
  });

  it("is NOT_FOUND, marked as a decryption playback error, when no session holds the key id", async () => {
    const otherKeyId = Uint8Array.fromHex("ffeeddccbbaa99887766554433221100");
    const error = await thrown(() =>
      decryptSample(new Uint8Array(32), { ...base, keyId: otherKeyId, keySessionId: 4 }, keys),
    );
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain("ffeeddccbbaa99887766554433221100");
    expect(error.details).toEqual({
      playbackError: DECRYPTION_PLAYBACK_ERROR,
      keyId: "ffeeddccbbaa99887766554433221100",
    });
  });

  it("is INVALID_ARGUMENT for subsamples that do not cover the sample exactly", async () => {
    const short = [{ clearBytes: 10, encryptedBytes: 20 }];
    expect(
      (await thrown(() => decryptSample(new Uint8Array(31), { ...base, subsamples: short }, keys)))
        .message,
    ).toContain("subsamples cover 30 bytes; the sample has 31");
    const negative = [{ clearBytes: -1, encryptedBytes: 32 }];
    expect(
      (
        await thrown(() =>
          decryptSample(new Uint8Array(31), { ...base, subsamples: negative }, keys),
        )
      ).code,
    ).toBe("INVALID_ARGUMENT");
  });

  it("is INVALID_ARGUMENT for a bad IV, key id, scheme, pattern or a too small output", async () => {
    const data = new Uint8Array(32);
    const cases: [Partial<SampleEncryption>, string][] = [
      [{ iv: new Uint8Array(12) }, "IV is 12 bytes"],
      [{ keyId: new Uint8Array(15) }, "key id is 15 bytes"],
      [{ cipherMode: "cbc1" }, 'cipher mode "cbc1"'],
      [{ pattern: { cryptByteBlock: 1, skipByteBlock: 9 } }, "cens"],
      [{ cipherMode: "cbcs", pattern: { cryptByteBlock: 0, skipByteBlock: 9 } }, "pattern 0:9"],
      [{ cipherMode: "cbcs", pattern: { cryptByteBlock: 16, skipByteBlock: 0 } }, "pattern 16:0"],
    ];
    for (const [change, message] of cases) {
      const error = await thrown(() => decryptSample(data, { ...base, ...change }, keys));
      expect([error.code, error.message]).toEqual([
        "INVALID_ARGUMENT",
        expect.stringContaining(message),
      ]);
    }
    const small = await thrown(() => decryptSample(data, base, keys, new Uint8Array(31)));
    expect(small.message).toContain("output of 31 bytes");
  });
});
