import { RialtoError } from "../errors.ts";

/** Bytes of a side-channel record that carries a tagged fd: the tag as a little-endian u32. */
export const FD_TAG_RECORD_SIZE = 4;

/**
 * The payload of the fd side-channel record that carries the fd a message names by `fdTag`
 * (`session/getSharedMemory` from the server, `shm/registerPool` from the client): the tag as
 * a little-endian u32. The record is sent before the message that names it.
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
