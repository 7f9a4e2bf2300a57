import type { KeyStatus, KeyStatusesChangedEvent } from "@rialto/protocol";
import type { ContentKey } from "./clearkey-messages.ts";
import { sameBytes, toHex } from "./key-bytes.ts";

/**
 * Where a key session is in its life (W3C EME): `Created` (no request yet), `Pending` (a license
 * request went out), `Usable` (a license gave it keys), `Closed` (keys released; only
 * `removeKeySession` still applies).
 */
export type KeySessionState = "Created" | "Pending" | "Usable" | "Closed";

/** One ClearKey key session: the key ids it asked for and the keys its licenses gave it. */
export class KeySession {
  readonly id: number;
  state: KeySessionState = "Created";
  /** Key ids of the license request (after `generateRequest`). */
  requestedKeyIds: readonly Uint8Array[] = [];
  // A list compared byte by byte, not a map keyed by hex: a session holds a few keys, and turning
  // each frame's key id into a string was a sixth of decrypting a 16 KiB sample.
  readonly #keys: ContentKey[] = [];

  constructor(id: number) {
    this.id = id;
  }

  /** Adds (or replaces) keys from a license; the session becomes `Usable`. */
  addKeys(keys: readonly ContentKey[]): void {
    for (const key of keys) {
      const index = this.#keys.findIndex((held) => sameBytes(held.keyId, key.keyId));
      if (index === -1) this.#keys.push(key);
      else this.#keys[index] = key;
    }
    this.state = "Usable";
  }

  /** The key for a key id (16 bytes), while the session is not closed. */
  key(keyId: Uint8Array): Uint8Array | undefined {
    if (this.state === "Closed") return undefined;
    for (const held of this.#keys) if (sameBytes(held.keyId, keyId)) return held.key;
    return undefined;
  }

  /** Whether the session holds a key of that id (lowercase hex, as on the wire) and is open. */
  holdsKey(keyIdHex: string): boolean {
    return this.state !== "Closed" && this.#keys.some((held) => toHex(held.keyId) === keyIdHex);
  }

  /** Number of keys held. */
  get keyCount(): number {
    return this.#keys.length;
  }

  /** Releases every key; the session becomes `Closed`. */
  close(): void {
    this.#keys.length = 0;
    this.state = "Closed";
  }

  /** The `keyStatusesChanged` payload: every held key `usable` (none once closed). */
  statuses(): KeyStatusesChangedEvent {
    const status: KeyStatus = "usable";
    return {
      keySessionId: this.id,
      statuses: this.#keys.map((held) => ({ keyId: toHex(held.keyId), status })),
    };
  }
}
