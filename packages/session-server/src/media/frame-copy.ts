import type { MediaFrame } from "@rialto/shm";

/**
 * A copy of `frame` that owns its bytes: data, codec data, key id and IV are copied (they may
 * be views into shared memory that the client is about to rewrite); the metadata is kept.
 */
export function copyFrame(frame: MediaFrame): MediaFrame {
  const copy = { ...frame, data: frame.data.slice() };
  if (frame.codecData !== undefined) copy.codecData = frame.codecData.slice();
  if (frame.encryption !== undefined) {
    const { keyId, iv, subsamples } = frame.encryption;
    copy.encryption = {
      ...frame.encryption,
      keyId: keyId.slice(),
      iv: iv.slice(),
      subsamples: subsamples.map((s) => ({ ...s })),
    };
  }
  return copy;
}
