import { describeValue, type PlaybackErrorKind, RialtoError } from "@rialto/protocol";
import { aesDecryptor, type ByteRange, subsampleRuns } from "./aes-decryptor.ts";
import { isByteCount, KEY_BYTES, toHex } from "./key-bytes.ts";
import type { KeyStore } from "./media-keys.ts";

/** AES block size in bytes. */
const BLOCK = 16;

/** Largest crypt or skip block count of a pattern (a 4-bit field in `tenc`). */
const MAX_PATTERN_BLOCKS = 15;

/** One subsample: clear bytes, then encrypted bytes. */
export interface SampleSubsample {
  readonly clearBytes: number;
  readonly encryptedBytes: number;
}

/**
 * How one sample is encrypted: a plain structure, the same shape as `FrameEncryption` of
 * @rialto/shm (which is assignable to it), so frames read from shared memory go straight in.
 */
export interface SampleEncryption {
  /** `cenc` (AES-128-CTR) or `cbcs` (AES-128-CBC with pattern). */
  readonly cipherMode: string;
  /** The key session named by the frame, looked in first (see {@link KeyStore.findKey}). */
  readonly keySessionId?: number;
  /** The 16-byte key id. */
  readonly keyId: Uint8Array;
  /** 16 bytes, or 8 bytes (zero-padded on the right to 16). */
  readonly iv: Uint8Array;
  /** Clear/encrypted pairs covering the whole sample; empty = the whole sample is encrypted. */
  readonly subsamples: readonly SampleSubsample[];
  /** `cbcs` pattern, crypt:skip 16-byte blocks (0..15 each); absent or 0:0 = every full block. */
  readonly pattern?: { readonly cryptByteBlock: number; readonly skipByteBlock: number };
}

/** Kind of playback error a failed decryption turns into (in `details.playbackError`). */
export const DECRYPTION_PLAYBACK_ERROR: PlaybackErrorKind = "Decryption";

function invalid(message: string): never {
  throw new RialtoError("INVALID_ARGUMENT", `decryptSample: ${message}`, {
    details: { playbackError: DECRYPTION_PLAYBACK_ERROR },
  });
}

/**
 * Decrypts one sample into `output` (default: a new buffer) and returns the decrypted bytes
 * (`output.subarray(0, data.byteLength)`). `data` is only read (it may be shared memory the client
 * can still write); the key id and IV are copied before use. Schemes (ISO/IEC 23001-7):
 *
 * - `cenc`: AES-128-CTR; the encrypted parts of all subsamples form one key stream (the counter
 *   continues across them, mid-block included).
 * - `cbcs`: AES-128-CBC restarted with the constant IV at every subsample; in each encrypted
 *   part, of every `crypt + skip` full blocks the first `crypt` are encrypted (chained across the
 *   skipped ones); a partial trailing block stays clear, and so does a last group of fewer than
 *   `crypt` full blocks (what Shaka Packager writes and ffmpeg reads; see `patternRuns`).
 *
 * Errors are `RialtoError` with `details.playbackError = "Decryption"`: `NOT_FOUND` when no open
 * key session holds the key id, `INVALID_ARGUMENT` for a malformed description (subsamples not
 * summing to the sample size, a bad IV, key id or pattern, an unknown scheme).
 */
export function decryptSample(
  data: Uint8Array,
  encryption: SampleEncryption,
  keys: KeyStore,
  // Not zero-filled: every byte is written below.
  output: Uint8Array = Buffer.allocUnsafe(data.byteLength),
): Uint8Array {
  const { cipherMode } = encryption;
  if (cipherMode !== "cenc" && cipherMode !== "cbcs") {
    invalid(`cipher mode ${describeValue(cipherMode)} is not cenc or cbcs`);
  }
  if (output.byteLength < data.byteLength) {
    invalid(
      `output of ${output.byteLength} bytes is smaller than the ${data.byteLength}-byte sample`,
    );
  }
  const { keyId } = encryption;
  if (keyId.byteLength !== KEY_BYTES) invalid(`key id is ${keyId.byteLength} bytes, not 16`);
  const iv = paddedIv(encryption.iv);
  checkSubsamples(encryption.subsamples, data.byteLength);
  const pattern = patternOf(cipherMode, encryption.pattern);
  // The key id is only compared, never kept, so no copy of it is taken.
  const key = keys.findKey(keyId, encryption.keySessionId);
  if (key === undefined) {
    const hex = toHex(keyId);
    throw new RialtoError(
      "NOT_FOUND",
      `decryptSample: no usable key for key id ${hex} (key session ${describeValue(encryption.keySessionId)})`,
      { details: { playbackError: DECRYPTION_PLAYBACK_ERROR, keyId: hex } },
    );
  }

  // Views (subarray) are costly next to a small sample's decryption: take none when not needed.
  const result =
    output.byteLength === data.byteLength ? output : output.subarray(0, data.byteLength);
  const aes = aesDecryptor();
  if (cipherMode === "cenc") {
    // One pass: clear bytes copied, encrypted ones decrypted straight from `data`.
    aes.decryptCopy("ctr", key, iv, data, result, encryption.subsamples);
  } else {
    result.set(data);
    for (const part of subsampleRuns(encryption.subsamples, data.byteLength)) {
      aes.decrypt("cbc", key, iv, result, patternRuns(part, pattern));
    }
  }
  return result;
}

/**
 * One IV buffer for every sample: decryption is synchronous and the cipher copies the IV in when
 * it starts. Nothing is allocated per sample (garbage per sample showed in the 16 KiB benchmark).
 */
const ivScratch = new Uint8Array(BLOCK);

/** The sample's IV zero-padded to 16 bytes, in {@link ivScratch} (valid until the next call). */
function paddedIv(source: Uint8Array): Uint8Array {
  const length = source.byteLength;
  if (length !== 8 && length !== BLOCK) invalid(`IV is ${length} bytes, not 8 or 16`);
  ivScratch.fill(0);
  ivScratch.set(source);
  return ivScratch;
}

/** Throws unless the subsamples are byte counts covering exactly `size` bytes (or none). */
function checkSubsamples(subsamples: readonly SampleSubsample[], size: number): void {
  if (subsamples.length === 0) return;
  let at = 0;
  for (let index = 0; index < subsamples.length; index++) {
    const { clearBytes, encryptedBytes } = subsamples[index] as SampleSubsample;
    if (!isByteCount(clearBytes) || !isByteCount(encryptedBytes)) {
      invalid(`subsample ${index} (${clearBytes}, ${encryptedBytes}) is not two byte counts`);
    }
    at += clearBytes + encryptedBytes;
  }
  if (at !== size) invalid(`subsamples cover ${at} bytes; the sample has ${size}`);
}

/** The pattern of cenc: none. */
const NO_PATTERN = Object.freeze({ crypt: 0, skip: 0 });

/** crypt:skip in blocks; 0 skip = every full block encrypted. */
function patternOf(
  cipherMode: "cenc" | "cbcs",
  pattern: SampleEncryption["pattern"],
): { crypt: number; skip: number } {
  const crypt = pattern?.cryptByteBlock ?? 0;
  const skip = pattern?.skipByteBlock ?? 0;
  if (cipherMode === "cenc") {
    if (crypt !== 0 || skip !== 0)
      invalid(`pattern ${crypt}:${skip} with cenc (cens) is not supported`);
    return NO_PATTERN;
  }
  const valid = (value: number) =>
    Number.isInteger(value) && value >= 0 && value <= MAX_PATTERN_BLOCKS;
  if (!valid(crypt) || !valid(skip) || (crypt === 0 && skip !== 0)) {
    invalid(`pattern ${crypt}:${skip} is not crypt 1..15 : skip 0..15 (or 0:0)`);
  }
  return crypt === 0 || skip === 0 ? { crypt: 1, skip: 0 } : { crypt, skip };
}

/**
 * The encrypted full blocks of one cbcs part, as runs. With a pattern, a last group of fewer
 * than `crypt` full blocks stays clear (1:9 never has one; 2:8 does when one full block is left):
 * ISO/IEC 23001-7 section 10.4.2 applies the pattern to whole blocks and leaves the partial
 * block clear without saying more, and the packagers that write such files (Shaka Packager's
 * AesPatternCryptor: "if there is not enough data, just keep it in clear") and ffmpeg's mov
 * decryptor (`rem_bytes < 16 * crypt_byte_block` ends the loop) agree on leaving it clear.
 * Chromium's cbcs_decryptor decrypts it; it disagrees with the files, so it is not followed.
 */
function patternRuns([start, end]: ByteRange, { crypt, skip }: { crypt: number; skip: number }) {
  const fullEnd = start + Math.floor((end - start) / BLOCK) * BLOCK;
  if (skip === 0) return fullEnd > start ? [[start, fullEnd] as const] : [];
  const runs: ByteRange[] = [];
  for (let at = start; at + crypt * BLOCK <= fullEnd; at += (crypt + skip) * BLOCK) {
    runs.push([at, at + crypt * BLOCK]);
  }
  return runs;
}
