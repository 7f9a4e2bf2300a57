import { createCipheriv } from "node:crypto";
import type { SampleSubsample } from "../decrypt-sample.ts";

/** What the reference encrypts with. */
export interface ReferenceEncryption {
  readonly scheme: "cenc" | "cbcs";
  readonly key: Uint8Array;
  /** 8 or 16 bytes (8 are zero-padded on the right). */
  readonly iv: Uint8Array;
  /** Empty: the whole sample. */
  readonly subsamples: readonly SampleSubsample[];
  /** cbcs only; absent = every full block. */
  readonly pattern?: { readonly cryptByteBlock: number; readonly skipByteBlock: number };
}

/** The AES-128 block function alone (ECB of one block), so every mode below is spelled out. */
function blockCipher(key: Uint8Array): (block: Uint8Array) => Uint8Array {
  const ecb = createCipheriv("aes-128-ecb", key, null).setAutoPadding(false);
  return (block) => new Uint8Array(ecb.update(block));
}

function encryptedParts(size: number, subsamples: readonly SampleSubsample[]): [number, number][] {
  if (subsamples.length === 0) return [[0, size]];
  let at = 0;
  return subsamples.map(({ clearBytes, encryptedBytes }) => {
    at += clearBytes + encryptedBytes;
    return [at - encryptedBytes, at];
  });
}

/**
 * Encrypts a sample the way ISO/IEC 23001-7 describes, written independently of the decryptor:
 * block by block with the raw AES function. `cenc`: one CTR key stream over the encrypted parts
 * of all subsamples (a 128-bit big-endian counter, continuing mid-block). `cbcs`: per subsample a
 * CBC chain from the IV over the pattern's encrypted full blocks only.
 */
export function referenceEncrypt(plain: Uint8Array, options: ReferenceEncryption): Uint8Array {
  const encrypt = blockCipher(options.key);
  const out = new Uint8Array(plain);
  const iv = new Uint8Array(16);
  iv.set(options.iv);
  const parts = encryptedParts(plain.byteLength, options.subsamples);
  if (options.scheme === "cenc") {
    const counter = iv.slice();
    let stream: Uint8Array = new Uint8Array(0);
    let used = 0;
    for (const [start, end] of parts) {
      for (let at = start; at < end; at++) {
        if (used === stream.byteLength) {
          stream = encrypt(counter);
          used = 0;
          for (let i = 15; i >= 0; i--) {
            counter[i] = ((counter[i] ?? 0) + 1) & 0xff;
            if (counter[i] !== 0) break;
          }
        }
        out[at] = (out[at] ?? 0) ^ (stream[used++] ?? 0);
      }
    }
    return out;
  }
  const crypt = options.pattern?.cryptByteBlock || 1;
  const skip = options.pattern?.skipByteBlock ?? 0;
  for (const [start, end] of parts) {
    let previous: Uint8Array = iv.slice();
    const blocks = Math.floor((end - start) / 16);
    for (let block = 0; block < blocks; block++) {
      if (skip !== 0 && block % (crypt + skip) >= crypt) continue;
      // A last group of fewer than `crypt` blocks stays clear (Shaka Packager, ffmpeg).
      if (skip !== 0 && block - (block % (crypt + skip)) + crypt > blocks) continue;
      const at = start + block * 16;
      const mixed = out.slice(at, at + 16).map((byte, i) => byte ^ (previous[i] ?? 0));
      previous = encrypt(mixed);
      out.set(previous, at);
    }
  }
  return out;
}
