import type { KeyStatus, KeyStatusesChangedEvent } from "@rialto/protocol";
import type { ContentKey } from "./clearkey-messages.ts";
import { toHex } from "./key-bytes.ts";

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
  readonly #keys = new Map<string, ContentKey>();

  constructor(id: number) {
    this.id = id;
  }

  /** Adds (or replaces) keys from a license; the session becomes `Usable`. */
  addKeys(keys: readonly ContentKey[]): void {
    for (const key of keys) this.#keys.set(toHex(key.keyId), key);
    this.state = "Usable";
  }

  /** The key for a key id (lowercase hex), while the session is not closed. */
  key(keyIdHex: string): Uint8Array | undefined {
    return this.state === "Closed" ? undefined : this.#keys.get(keyIdHex)?.key;
  }

  /** Number of keys held. */
  get keyCount(): number {
    return this.#keys.size;
  }

  /** Releases every key; the session becomes `Closed`. */
  close(): void {
    this.#keys.clear();
    this.state = "Closed";
  }

  /** The `keyStatusesChanged` payload: every held key `usable` (none once closed). */
  statuses(): KeyStatusesChangedEvent {
    const status: KeyStatus = "usable";
    return {
      keySessionId: this.id,
      statuses: [...this.#keys.keys()].map((keyId) => ({ keyId, status })),
    };
  }
}
