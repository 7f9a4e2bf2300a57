import { RialtoError } from "@rialto/protocol";
import type { JwkSet } from "./encrypted-clip.ts";

/** The keys a user gave for an encrypted file: key id (hex) → key (16 bytes). */
export type KeyMaterial = ReadonlyMap<string, Uint8Array>;

const HEX_16 = /^[0-9a-f]{32}$/;

function fromBase64Url(text: string, what: string): Uint8Array {
  try {
    const bytes = Uint8Array.fromBase64(text, { alphabet: "base64url" });
    if (bytes.byteLength === 16) return bytes;
  } catch {
    // reported below
  }
  throw new RialtoError("INVALID_ARGUMENT", `${what} "${text}" is not 16 bytes of base64url`);
}

/**
 * Reads `--key KID:KEY` values (32 hex digits each; dashes in the key id allowed) and a
 * `--keys FILE` ClearKey JWK set (`{"keys":[{"kty":"oct","kid":"<base64url>","k":"<base64url>"}]}`).
 *
 * @throws RialtoError `INVALID_ARGUMENT` naming the malformed value, `NOT_FOUND` for a missing file.
 */
export async function readKeyMaterial(
  keys: readonly string[],
  keysFile: string | undefined,
): Promise<KeyMaterial> {
  const material = new Map<string, Uint8Array>();
  for (const value of keys) {
    const [kid = "", key = "", ...rest] = value.toLowerCase().replaceAll("-", "").split(":");
    if (!HEX_16.test(kid) || !HEX_16.test(key) || rest.length > 0) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `--key "${value}" is not KID:KEY (32 hex digits each, e.g. 0123...cdef:89ab...4567)`,
      );
    }
    material.set(kid, Uint8Array.fromHex(key));
  }
  if (keysFile !== undefined) {
    const file = Bun.file(keysFile);
    if (!(await file.exists())) {
      throw new RialtoError("NOT_FOUND", `--keys "${keysFile}": no such file`);
    }
    let set: unknown;
    try {
      set = await file.json();
    } catch (error) {
      throw new RialtoError("INVALID_ARGUMENT", `--keys "${keysFile}" is not JSON`, {
        cause: error,
      });
    }
    const entries = (set as { keys?: unknown }).keys;
    if (!Array.isArray(entries)) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `--keys "${keysFile}" is not a JWK set (no "keys" array)`,
      );
    }
    for (const entry of entries as { kty?: unknown; kid?: unknown; k?: unknown }[]) {
      if (entry.kty !== "oct" || typeof entry.kid !== "string" || typeof entry.k !== "string") {
        throw new RialtoError(
          "INVALID_ARGUMENT",
          `--keys "${keysFile}": ${JSON.stringify(entry)} is not an "oct" key with "kid" and "k"`,
        );
      }
      material.set(fromBase64Url(entry.kid, "kid").toHex(), fromBase64Url(entry.k, "k"));
    }
  }
  return material;
}

/** The JWK set of `material`'s keys among `keyIds` (hex), as a ClearKey license carries it. */
export function licenseOf(material: KeyMaterial, keyIds: readonly string[]): JwkSet {
  const base64url = (bytes: Uint8Array) =>
    bytes.toBase64({ alphabet: "base64url", omitPadding: true });
  return {
    keys: keyIds.flatMap((kid) => {
      const key = material.get(kid);
      return key === undefined
        ? []
        : [{ kty: "oct", kid: base64url(Uint8Array.fromHex(kid)), k: base64url(key) }];
    }),
  };
}
