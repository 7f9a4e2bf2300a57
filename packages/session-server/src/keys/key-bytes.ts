import { describeValue, RialtoError } from "@rialto/protocol";

/** Bytes of an AES-128 content key and of a CENC key id. */
export const KEY_BYTES = 16;

const BASE64URL_16_BYTES = /^[A-Za-z0-9_-]{21}[AQgw]$/;

/**
 * Decodes a 16-byte key or key id written as base64url without padding (RFC 4648 section 5), the
 * only form W3C ClearKey allows in `keyids` init data, license requests and JWK sets: exactly 22
 * characters from `A-Z a-z 0-9 - _`, with the unused low bits of the last one zero. Anything else
 * (padding, `+` `/`, another length) is `INVALID_ARGUMENT` naming `what` and the value.
 */
export function decodeBase64Url16(text: unknown, what: string): Uint8Array {
  if (typeof text !== "string" || !BASE64URL_16_BYTES.test(text)) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `${what} ${describeValue(text)} is not 16 bytes of unpadded base64url`,
    );
  }
  return new Uint8Array(Buffer.from(text, "base64url"));
}

/** Encodes bytes as base64url without padding (the W3C ClearKey form). */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

/** Bytes as lowercase hex: the form of a key id on the wire (`KeyId`) and in map keys. */
export function toHex(bytes: Uint8Array): string {
  // Not through Buffer: reading `.buffer` of a small typed array costs more than the encoding
  // (it runs once per decrypted frame, in the key lookup).
  return bytes.toHex();
}

/** Whether two byte arrays hold the same bytes (key ids: 16 bytes, compared without a string). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether a value can be a count of bytes (what a pointer may be offset by): a safe integer ≥ 0. */
export function isByteCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}
