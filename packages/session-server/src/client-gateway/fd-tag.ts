import { RialtoError } from "@rialto/protocol";

/** Bytes of a side-channel record that carries a tagged fd: the tag as a little-endian u32. */
export const FD_TAG_RECORD_SIZE = 4;

/**
 * The payload of the side-channel record that carries the fd a reply names by `fdTag`
 * (e.g. `session/getSharedMemory`): the tag as a little-endian u32.
 */
export function encodeFdTag(tag: number): Uint8Array {
  const bytes = new Uint8Array(FD_TAG_RECORD_SIZE);
  new DataView(bytes.buffer).setUint32(0, tag, true);
  return bytes;
}

/** Reads the tag of a side-channel record; PROTOCOL_ERROR when it is not 4 bytes. */
export function decodeFdTag(data: Uint8Array): number {
  if (data.byteLength !== FD_TAG_RECORD_SIZE) {
    throw new RialtoError(
      "PROTOCOL_ERROR",
      `side-channel record of ${data.byteLength} bytes is not a ${FD_TAG_RECORD_SIZE}-byte fd tag`,
    );
  }
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0, true);
}
