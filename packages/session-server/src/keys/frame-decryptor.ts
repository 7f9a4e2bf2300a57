import { decryptSample, type SampleEncryption } from "./decrypt-sample.ts";
import type { KeyStore } from "./media-keys.ts";

/** A frame as the pipeline engine hands it to its decrypt hook (`MediaFrame` of @rialto/shm fits). */
export interface FrameToDecrypt {
  /** The frame bytes (possibly shared memory the client can still write: only read). */
  readonly data: Uint8Array;
  /** How it is encrypted; absent for a clear frame. */
  readonly encryption?: SampleEncryption;
}

/**
 * The pipeline engine's decrypt hook (`FrameDecryptor` of `../media`, which this is assignable
 * to) over a key store, in the session server the client sessions' `keys` (a `MediaKeysBook`):
 * an encrypted frame gets its clear bytes in `output` (default a new buffer), found by the key
 * session and key id its metadata names; a clear frame's own bytes come back as they are. Failures throw as
 * {@link decryptSample} does (`details.playbackError = "Decryption"`).
 */
export function createFrameDecryptor(
  keys: KeyStore,
): (frame: FrameToDecrypt, output?: Uint8Array) => Uint8Array {
  return (frame, output) =>
    frame.encryption === undefined
      ? frame.data
      : decryptSample(frame.data, frame.encryption, keys, output);
}
