import {
  describeValue,
  type InitDataType,
  MAX_KEYS_PER_SESSION,
  type MessageEncoding,
  RialtoError,
} from "@rialto/protocol";
import { decodeBase64Url16, encodeBase64Url, KEY_BYTES, toHex } from "./key-bytes.ts";
import { COMMON_SYSTEM_ID, parsePsshBoxes } from "./pssh.ts";

/** A content key of a JWK set: 16-byte key id and 16-byte AES-128 key. */
export interface ContentKey {
  readonly keyId: Uint8Array;
  readonly key: Uint8Array;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function invalid(method: string, message: string): never {
  throw new RialtoError("INVALID_ARGUMENT", `${method}: ${message}`);
}

function parseJson(method: string, what: string, bytes: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch (error) {
    return invalid(method, `${what} is not UTF-8 JSON (${(error as Error).message})`);
  }
}

function uniqueById(keyIds: Iterable<Uint8Array>): Uint8Array[] {
  const byHex = new Map<string, Uint8Array>();
  for (const keyId of keyIds) byHex.set(toHex(keyId), keyId);
  return [...byHex.values()];
}

/**
 * The key ids named by init data, the way W3C ClearKey reads it: `cenc` = the key ids of every
 * version-1 `pssh` box of the common system id ({@link COMMON_SYSTEM_ID}; other systems' boxes are
 * skipped); `keyids` = the UTF-8 JSON `{"kids":[base64url, ...]}`; `webm` = the init data is one
 * 16-byte key id. Duplicates are dropped; no key id at all, more than 128, or a malformed input is
 * `INVALID_ARGUMENT`.
 */
export function keyIdsFromInitData(type: InitDataType, initData: Uint8Array): Uint8Array[] {
  const method = "generateRequest";
  switch (type) {
    case "cenc": {
      const boxes = parsePsshBoxes(initData, MAX_KEYS_PER_SESSION);
      const keyIds = uniqueById(
        boxes.filter((box) => box.systemId === COMMON_SYSTEM_ID).flatMap((box) => box.keyIds),
      );
      if (keyIds.length === 0) {
        invalid(
          method,
          `cenc init data has no key id in a version-1 pssh box of the common system`,
        );
      }
      return keyIds;
    }
    case "keyids": {
      const json = parseJson(method, "keyids init data", initData);
      const kids = (json as { kids?: unknown } | null)?.kids;
      if (!Array.isArray(kids) || kids.length === 0 || kids.length > MAX_KEYS_PER_SESSION) {
        invalid(
          method,
          `keyids init data ${describeValue(json)} needs "kids": 1 to ${MAX_KEYS_PER_SESSION} key ids`,
        );
      }
      return uniqueById(kids.map((kid) => decodeBase64Url16(kid, `${method}: key id`)));
    }
    case "webm": {
      if (initData.byteLength !== KEY_BYTES) {
        invalid(method, `webm init data is ${initData.byteLength} bytes, not a 16-byte key id`);
      }
      return [new Uint8Array(initData)];
    }
  }
}

/** The W3C ClearKey license request for `keyIds`: `{"kids":[base64url...],"type":"temporary"}`. */
export function clearKeyLicenseRequest(keyIds: readonly Uint8Array[]): string {
  return JSON.stringify({ kids: keyIds.map(encodeBase64Url), type: "temporary" });
}

/** The bytes of a license response as carried on the wire (`utf8` text or `base64`). */
export function responseBytes(response: string, encoding: MessageEncoding): Uint8Array {
  if (encoding === "utf8") return new TextEncoder().encode(response);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(response) || response.length % 4 !== 0) {
    invalid("updateSession", `response ${describeValue(response)} is not standard base64`);
  }
  return new Uint8Array(Buffer.from(response, "base64"));
}

/**
 * Parses a ClearKey license: a JWK set `{"keys":[{"kty":"oct","kid":base64url,"k":base64url}]}`
 * (other members such as `alg` or the set's `type` are ignored). Every key must be `oct` with a
 * 16-byte `k` and `kid`; 1 to 128 keys; a later duplicate of a key id wins. Anything else is
 * `INVALID_ARGUMENT` naming the offending key.
 */
export function parseJwkSet(license: Uint8Array): ContentKey[] {
  const method = "updateSession";
  const json = parseJson(method, "the license", license);
  const keys = (json as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_KEYS_PER_SESSION) {
    invalid(
      method,
      `license ${describeValue(json)} needs "keys": 1 to ${MAX_KEYS_PER_SESSION} JWKs`,
    );
  }
  const byHex = new Map<string, ContentKey>();
  keys.forEach((jwk: unknown, index) => {
    const { kty, kid, k } = (jwk ?? {}) as { kty?: unknown; kid?: unknown; k?: unknown };
    if (kty !== "oct") invalid(method, `JWK ${index} has kty ${describeValue(kty)}, not "oct"`);
    const keyId = decodeBase64Url16(kid, `${method}: JWK ${index} kid`);
    const key = decodeBase64Url16(k, `${method}: JWK ${index} k`);
    byHex.set(toHex(keyId), { keyId, key });
  });
  return [...byHex.values()];
}
