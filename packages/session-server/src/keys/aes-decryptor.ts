import type * as NodeCrypto from "node:crypto";
import { RialtoError } from "@rialto/protocol";
import type { SampleSubsample } from "./decrypt-sample.ts";
import { isByteCount } from "./key-bytes.ts";

/** A run of ciphertext bytes inside a buffer: [start, end). */
export type ByteRange = readonly [start: number, end: number];

/** The AES modes samples use: CTR (`cenc`) and CBC without padding (`cbcs`). */
export type AesMode = "ctr" | "cbc";

/**
 * Decrypts runs of a buffer in place as one AES-128 stream (CTR keeps its counter and CBC its
 * chain from run to run), starting from `iv` (16 bytes).
 */
export interface AesDecryptor {
  /** `libcrypto` (the system's OpenSSL through bun:ffi) or `node:crypto` (Bun's own). */
  readonly name: "libcrypto" | "node:crypto";
  decrypt(
    mode: AesMode,
    key: Uint8Array,
    iv: Uint8Array,
    buffer: Uint8Array,
    runs: readonly ByteRange[],
  ): void;
  /**
   * The same from `input` into `output` (at least as long), laid out as CENC subsamples: each
   * pair's clear bytes copied and its encrypted bytes decrypted, in order from the start, bytes
   * past the last pair copied; no pairs = all of `input` encrypted. One pass over the sample,
   * nothing allocated; `input` is only read.
   */
  decryptCopy(
    mode: AesMode,
    key: Uint8Array,
    iv: Uint8Array,
    input: Uint8Array,
    output: Uint8Array,
    subsamples: readonly SampleSubsample[],
  ): void;
}

/**
 * The decryptor the session server uses: the system's libcrypto when it can be loaded
 * (`RIALTO_CRYPTO=node` forces Bun's node:crypto). Why libcrypto: its cipher context keeps the
 * expanded key, so one context per key and mode is reused for every sample and only the IV is
 * reset (node:crypto has no way to reset a Decipher's IV: a new Decipher per sample costs more
 * than decrypting a small sample); it decrypts in place with no JavaScript allocation; and it is
 * what Rialto's own session server decrypts with. Chosen on first use.
 */
export function aesDecryptor(): AesDecryptor {
  chosen ??=
    (process.env.RIALTO_CRYPTO === "node" ? undefined : loadLibcrypto()) ?? nodeCryptoDecryptor();
  return chosen;
}

let chosen: AesDecryptor | undefined;

function fail(message: string): never {
  throw new RialtoError("INTERNAL", `decryptSample: ${message}`);
}

function outputTooShort(output: Uint8Array, input: Uint8Array): never {
  fail(`output of ${output.byteLength} bytes < ${input.byteLength}`);
}

/** The encrypted runs of subsamples over `length` bytes, in order (no subsamples: all of it). */
export function subsampleRuns(subsamples: readonly SampleSubsample[], length: number): ByteRange[] {
  if (subsamples.length === 0) return [[0, length]];
  let at = 0;
  return subsamples.map(({ clearBytes, encryptedBytes }) => {
    at += clearBytes + encryptedBytes;
    return [at - encryptedBytes, at] as const;
  });
}

/** Bun's node:crypto: a new Decipher per sample (the IV of a Decipher cannot be reset). */
export function nodeCryptoDecryptor(): AesDecryptor {
  // Loaded on the first decryption: node:crypto brings Node's stream machinery with it, several
  // ms of every session server's start-up, and only encrypted playback needs it.
  const crypto = require("node:crypto") as typeof NodeCrypto;
  const decryptor: AesDecryptor = {
    name: "node:crypto",
    decryptCopy(mode, key, iv, input, output, subsamples) {
      if (output.byteLength < input.byteLength) outputTooShort(output, input);
      output.set(input);
      decryptor.decrypt(mode, key, iv, output, subsampleRuns(subsamples, input.byteLength));
    },
    decrypt(mode, key, iv, buffer, runs) {
      if (runs.length === 0) return;
      const algorithm = mode === "ctr" ? "aes-128-ctr" : "aes-128-cbc";
      const decipher = crypto.createDecipheriv(algorithm, key, iv).setAutoPadding(false);
      let decrypted = 0;
      let expected = 0;
      for (const [start, end] of runs) {
        if (end === start) continue;
        // A view is costly next to a small sample's decryption: take none for the whole buffer.
        const run = start === 0 && end === buffer.byteLength ? buffer : buffer.subarray(start, end);
        const plaintext = decipher.update(run);
        buffer.set(plaintext, start);
        decrypted += plaintext.byteLength;
        expected += end - start;
      }
      if (decrypted !== expected || decipher.final().byteLength !== 0) {
        fail(`${algorithm} gave ${decrypted} bytes for ${expected}`);
      }
    },
  };
  return decryptor;
}

/**
 * The system's libcrypto (OpenSSL 3) through bun:ffi, or undefined when it cannot be loaded.
 * One EVP cipher context per key and mode, kept while the key object lives (freed by a
 * FinalizationRegistry when the key is dropped); each sample re-initialises only its IV.
 */
export function loadLibcrypto(): AesDecryptor | undefined {
  let ffi: typeof import("bun:ffi");
  let C: LibcryptoSymbols;
  let copy: (to: number, from: number, length: number) => unknown;
  try {
    ffi = require("bun:ffi") as typeof import("bun:ffi");
    copy = ffi.dlopen("libc.so.6", {
      memcpy: { args: ["ptr", "ptr", "u64"], returns: "ptr" },
    }).symbols.memcpy as unknown as typeof copy;
    C = ffi.dlopen("libcrypto.so.3", {
      EVP_CIPHER_CTX_new: { args: [], returns: "ptr" },
      EVP_CIPHER_CTX_free: { args: ["ptr"], returns: "void" },
      EVP_CIPHER_CTX_set_padding: { args: ["ptr", "i32"], returns: "i32" },
      EVP_aes_128_ctr: { args: [], returns: "ptr" },
      EVP_aes_128_cbc: { args: [], returns: "ptr" },
      EVP_DecryptInit_ex: { args: ["ptr", "ptr", "ptr", "ptr", "ptr"], returns: "i32" },
      EVP_DecryptUpdate: { args: ["ptr", "ptr", "ptr", "ptr", "i32"], returns: "i32" },
    }).symbols as unknown as LibcryptoSymbols;
  } catch {
    return undefined;
  }
  const ciphers = { ctr: C.EVP_aes_128_ctr(), cbc: C.EVP_aes_128_cbc() };
  const contexts = new WeakMap<Uint8Array, Partial<Record<AesMode, number>>>();
  const freeContexts = new FinalizationRegistry<number>((context) =>
    C.EVP_CIPHER_CTX_free(context),
  );
  const written = new Int32Array(1);
  const contextFor = (mode: AesMode, key: Uint8Array): number => {
    let perMode = contexts.get(key);
    const existing = perMode?.[mode];
    if (existing !== undefined) return existing;
    const context = C.EVP_CIPHER_CTX_new();
    if (context === null || context === 0) fail("EVP_CIPHER_CTX_new failed");
    if (C.EVP_DecryptInit_ex(context, ciphers[mode], null, key, null) !== 1) {
      C.EVP_CIPHER_CTX_free(context);
      fail(`EVP_DecryptInit_ex(aes-128-${mode}) refused the key`);
    }
    C.EVP_CIPHER_CTX_set_padding(context, 0);
    if (perMode === undefined) {
      perMode = {};
      contexts.set(key, perMode);
    }
    perMode[mode] = context;
    freeContexts.register(key, context);
    return context;
  };
  const decryptRun = (context: number, mode: AesMode, to: number, from: number, length: number) => {
    if (C.EVP_DecryptUpdate(context, to, written, from, length) !== 1 || written[0] !== length) {
      fail(`aes-128-${mode} decrypted ${written[0]} bytes of ${length}`);
    }
  };
  /** The context for `key` with its IV reset to `iv` (the expanded key stays). */
  const start = (mode: AesMode, key: Uint8Array, iv: Uint8Array): number => {
    if (key.byteLength !== 16 || iv.byteLength !== 16) fail("key and IV must be 16 bytes");
    const context = contextFor(mode, key);
    if (C.EVP_DecryptInit_ex(context, null, null, null, iv) !== 1) fail("cannot set the IV");
    return context;
  };
  const checkRuns = (runs: readonly ByteRange[], length: number) => {
    let at = 0;
    for (const [begin, end] of runs) {
      if (begin < at || end < begin || end > length) {
        fail(`run ${begin}..${end} is outside the sample or out of order`);
      }
      at = end;
    }
  };
  return {
    name: "libcrypto",
    decrypt(mode, key, iv, buffer, runs) {
      if (runs.length === 0 || buffer.byteLength === 0) return;
      checkRuns(runs, buffer.byteLength);
      const context = start(mode, key, iv);
      const base = ffi.ptr(buffer);
      // In place: OpenSSL allows the output to be the input.
      for (const [begin, end] of runs) {
        if (end > begin) decryptRun(context, mode, base + begin, base + begin, end - begin);
      }
    },
    decryptCopy(mode, key, iv, input, output, subsamples) {
      const length = input.byteLength;
      if (output.byteLength < length) outputTooShort(output, input);
      if (length === 0) return;
      const from = ffi.ptr(input);
      const to = ffi.ptr(output);
      const context = start(mode, key, iv);
      if (subsamples.length === 0) {
        decryptRun(context, mode, to, from, length);
        return;
      }
      let at = 0;
      for (const { clearBytes, encryptedBytes } of subsamples) {
        // Checked here, before any pointer is offset: the bounds are all that keeps FFI inside
        // the two buffers.
        if (!isByteCount(clearBytes) || !isByteCount(encryptedBytes)) {
          fail(`subsample (${clearBytes}, ${encryptedBytes}) is not two byte counts`);
        }
        if (at + clearBytes + encryptedBytes > length) {
          fail(`subsamples run past the ${length}-byte sample`);
        }
        if (clearBytes > 0) copy(to + at, from + at, clearBytes);
        at += clearBytes;
        if (encryptedBytes > 0) decryptRun(context, mode, to + at, from + at, encryptedBytes);
        at += encryptedBytes;
      }
      if (length > at) copy(to + at, from + at, length - at);
    },
  };
}

interface LibcryptoSymbols {
  EVP_CIPHER_CTX_new(): number | null;
  EVP_CIPHER_CTX_free(context: number): void;
  EVP_CIPHER_CTX_set_padding(context: number, padding: number): number;
  EVP_aes_128_ctr(): number;
  EVP_aes_128_cbc(): number;
  EVP_DecryptInit_ex(
    context: number,
    cipher: number | null,
    engine: null,
    key: Uint8Array | null,
    iv: Uint8Array | null,
  ): number;
  EVP_DecryptUpdate(
    context: number,
    out: number,
    written: Int32Array,
    input: number,
    length: number,
  ): number;
}
