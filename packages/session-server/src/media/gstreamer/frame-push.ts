import type { Pointer } from "bun:ffi";
import type { MediaFrame } from "@rialto/shm";
import { clearBytes, type FrameFailure } from "../clear-bytes.ts";
import type { FrameDecryptor } from "../media-engine.ts";
import type { GstLibrary } from "./gst-ffi.ts";

/**
 * Pushes one frame into an appsrc as a new GstBuffer with its times: a clear frame is copied (its
 * bytes may be shared memory), an encrypted one is decrypted straight into the buffer. Returns
 * why it could not be, or undefined once pushed.
 */
export function pushFrameBuffer(
  gst: GstLibrary,
  appsrc: Pointer,
  frame: MediaFrame,
  decrypt: FrameDecryptor | undefined,
): FrameFailure | undefined {
  return frame.encryption === undefined
    ? pushClear(gst, appsrc, frame)
    : pushDecrypted(gst, appsrc, frame, decrypt);
}

/** A clear frame is copied into a new buffer (its bytes may be shared memory). */
function pushClear(gst: GstLibrary, appsrc: Pointer, frame: MediaFrame): FrameFailure | undefined {
  const bytes = clearBytes(frame, undefined);
  if (!(bytes instanceof Uint8Array)) return bytes;
  gst.pushBuffer(appsrc, bytes.byteLength, frame.timestampNs, frame.durationNs, bytes);
  return undefined;
}

/** An encrypted frame is decrypted straight into the buffer GStreamer gets: no extra copy. */
function pushDecrypted(
  gst: GstLibrary,
  appsrc: Pointer,
  frame: MediaFrame,
  decrypt: FrameDecryptor | undefined,
): FrameFailure | undefined {
  let failure: FrameFailure | undefined;
  const pushed = gst.pushBuffer(
    appsrc,
    frame.data.byteLength,
    frame.timestampNs,
    frame.durationNs,
    (target) => {
      const clear = clearBytes(frame, decrypt, target);
      if (!(clear instanceof Uint8Array)) {
        failure = clear;
        return false;
      }
      // A decryptor that did not write into `target` returned its own bytes: copy them in.
      if (clear.buffer !== target.buffer) target.set(clear);
      return true;
    },
  );
  if (pushed) return undefined;
  return (
    failure ?? {
      error: "Generic",
      message: `frame at ${frame.timestampNs} ns did not fit its GStreamer buffer`,
    }
  );
}
