import { type PlaybackErrorKind, RialtoError, toRialtoError } from "@rialto/protocol";
import type { MediaFrame } from "@rialto/shm";
import type { FrameDecryptor } from "./media-engine.ts";

/** Longest message of a `playbackError` event (its wire limit). */
const MAX_ERROR_MESSAGE = 1024;

/** Why a frame could not be rendered: the `error` and `message` of a `playbackError` event. */
export interface FrameFailure {
  readonly error: PlaybackErrorKind;
  readonly message: string;
}

function failureOf(thrown: unknown): FrameFailure {
  const error = toRialtoError(thrown);
  const kind = (error.details as { playbackError?: unknown } | undefined)?.playbackError;
  return {
    error: kind === "Generic" || kind === "OutputProtection" ? kind : "Decryption",
    message: error.message.slice(0, MAX_ERROR_MESSAGE),
  };
}

/** True when `bytes` view memory that is gone: a detached buffer (unmapped shared memory). */
function isDetached(bytes: Uint8Array): boolean {
  // A detached view is empty; reading `buffer` costs, so only empty views are looked at.
  return bytes.byteLength === 0 && bytes.buffer instanceof ArrayBuffer && bytes.buffer.detached;
}

/**
 * The bytes a sink renders for `frame`: its data when clear, what `decrypt` returns when it
 * carries encryption info, or why that failed (no decryptor, or the decryptor threw; the kind
 * is the error's `details.playbackError` when it names one, else `Decryption`). A frame whose
 * bytes were in shared memory that has been unmapped since fails with `Generic`.
 */
export function clearBytes(
  frame: MediaFrame,
  decrypt: FrameDecryptor | undefined,
  output?: Uint8Array,
): Uint8Array | FrameFailure {
  if (isDetached(frame.data)) {
    return {
      error: "Generic",
      message: `frame at ${frame.timestampNs} ns: its shared memory was unmapped`,
    };
  }
  if (frame.encryption === undefined) return frame.data;
  try {
    if (decrypt === undefined) {
      throw new RialtoError(
        "INVALID_STATE",
        `frame at ${frame.timestampNs} ns is encrypted and the pipeline has no decryptor`,
      );
    }
    return decrypt(frame, output);
  } catch (thrown) {
    return failureOf(thrown);
  }
}
