import {
  describeValue,
  type InitDataType,
  type KeySessionType,
  type KeyStatusesChangedEvent,
  type LicenseRequestEvent,
  MAX_INT32,
  MediaKeysMethods,
  RialtoError,
} from "@rialto/protocol";
import { clearKeyLicenseRequest, keyIdsFromInitData, parseJwkSet } from "./clearkey-messages.ts";
import { KeySession } from "./key-session.ts";

/** The one key system implemented: W3C ClearKey. */
export const CLEAR_KEY_SYSTEM = "org.w3.clearkey";

/** Where decryption finds its keys. */
export interface KeyStore {
  /**
   * The 16-byte AES key for `keyId`, or undefined. `keySessionId` (from the frame metadata) is
   * looked in first; when that session does not hold the key, any other open session of the store
   * that does (the most recently created) answers, as browsers' ClearKey does.
   */
  findKey(keyId: Uint8Array, keySessionId?: number): Uint8Array | undefined;
}

/** Callbacks for the events a MediaKeys instance produces (to be sent to its client). */
export interface MediaKeysListener {
  /** A license request to forward to a license server (`keys/licenseRequest`). */
  readonly licenseRequest?: (event: LicenseRequestEvent) => void;
  /** A session's key statuses changed (`keys/keyStatusesChanged`). */
  readonly keyStatusesChanged?: (event: KeyStatusesChangedEvent) => void;
}

/** Options of {@link createMediaKeys}. */
export interface MediaKeysOptions {
  /**
   * Hands out key session ids; they must be unique in the whole session server, so the server
   * passes one shared allocator. Default: 1, 2, 3, ... per instance.
   */
  readonly allocateKeySessionId?: () => number;
  /** Event callbacks; default none. */
  readonly events?: MediaKeysListener;
}

/**
 * A MediaKeys instance of W3C ClearKey: its key sessions and their keys (the key store the
 * decryptor reads). Every method throws `RialtoError`: `NOT_FOUND` for a session id this instance
 * does not hold, `INVALID_STATE` for a call out of order, `INVALID_ARGUMENT` for bad init data or a
 * bad license.
 */
export class ClearKeyMediaKeys implements KeyStore {
  /** Always {@link CLEAR_KEY_SYSTEM}. */
  readonly keySystem = CLEAR_KEY_SYSTEM;
  readonly #sessions = new Map<number, KeySession>();
  readonly #events: MediaKeysListener;
  readonly #allocate: () => number;

  constructor(options: MediaKeysOptions = {}) {
    this.#events = options.events ?? {};
    let next = 1;
    this.#allocate = options.allocateKeySessionId ?? (() => next++);
  }

  /** Creates a `temporary` key session (the only type ClearKey has here) and returns its id. */
  createKeySession(sessionType: KeySessionType = "temporary"): number {
    if (sessionType !== "temporary") {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `createKeySession: session type ${describeValue(sessionType)} is not supported: ClearKey keeps keys for a temporary session's life only`,
      );
    }
    const id = this.#allocate();
    if (!Number.isInteger(id) || id < 0 || id > MAX_INT32 || this.#sessions.has(id)) {
      throw new RialtoError("INTERNAL", `createKeySession: allocator gave bad id ${id}`);
    }
    this.#sessions.set(id, new KeySession(id));
    return id;
  }

  /**
   * Reads the key ids of `initData` (see `keyIdsFromInitData`) and produces the ClearKey license
   * request, which is both emitted as `licenseRequest` and returned. Only once per session
   * (`INVALID_STATE` after that).
   */
  generateRequest(
    keySessionId: number,
    initDataType: InitDataType,
    initData: Uint8Array,
  ): LicenseRequestEvent {
    const session = this.#session("generateRequest", keySessionId);
    if (session.state !== "Created") {
      throw new RialtoError(
        "INVALID_STATE",
        `generateRequest: key session ${keySessionId} is ${session.state}, a request was already made`,
      );
    }
    const keyIds = keyIdsFromInitData(initDataType, initData);
    session.requestedKeyIds = keyIds;
    session.state = "Pending";
    const event: LicenseRequestEvent = {
      keySessionId,
      message: clearKeyLicenseRequest(keyIds),
      messageEncoding: "utf8",
    };
    this.#events.licenseRequest?.(event);
    return event;
  }

  /**
   * Adds the keys of a ClearKey license (a JWK set, as bytes) to the session, which must have made
   * its request; emits and returns the session's key statuses (every key it holds, `usable`).
   */
  updateSession(keySessionId: number, license: Uint8Array): KeyStatusesChangedEvent {
    const session = this.#session("updateSession", keySessionId);
    if (session.state === "Created" || session.state === "Closed") {
      throw new RialtoError(
        "INVALID_STATE",
        `updateSession: key session ${keySessionId} is ${session.state}` +
          (session.state === "Created" ? "; call generateRequest first" : ""),
      );
    }
    session.addKeys(parseJwkSet(license));
    const event = session.statuses();
    this.#events.keyStatusesChanged?.(event);
    return event;
  }

  /**
   * Closes a key session: its keys are released (a `keyStatusesChanged` with no keys follows when it
   * held any); the id stays known until {@link removeKeySession}. Closing twice is a no-op.
   */
  closeKeySession(keySessionId: number): void {
    const session = this.#session("closeKeySession", keySessionId);
    if (session.state === "Closed") return;
    const heldKeys = session.keyCount > 0;
    session.close();
    if (heldKeys) this.#events.keyStatusesChanged?.(session.statuses());
  }

  /** Closes (if open) and forgets a key session; its id is `NOT_FOUND` afterwards. */
  removeKeySession(keySessionId: number): void {
    this.closeKeySession(keySessionId);
    this.#sessions.delete(keySessionId);
  }

  /** True when this instance holds the key session (open or closed). */
  hasKeySession(keySessionId: number): boolean {
    return this.#sessions.has(keySessionId);
  }

  /** Whether a key session holds a usable key of that id (32 hex digits); NOT_FOUND for no session. */
  containsKey(keySessionId: number, keyIdHex: string): boolean {
    return this.#session(MediaKeysMethods.containsKey.name, keySessionId).holdsKey(keyIdHex);
  }

  /**
   * The CDM's id of a key session: ClearKey here has no CDM of its own, so it is the session id
   * with the key system's name (`org.w3.clearkey-<id>`); NOT_FOUND for no session.
   */
  cdmKeySessionId(keySessionId: number): string {
    this.#session(MediaKeysMethods.getCdmKeySessionId.name, keySessionId);
    return `${CLEAR_KEY_SYSTEM}-${keySessionId}`;
  }

  /** Ids of the key sessions this instance holds, in creation order. */
  keySessionIds(): number[] {
    return [...this.#sessions.keys()];
  }

  findKey(keyId: Uint8Array, keySessionId?: number): Uint8Array | undefined {
    const named = keySessionId === undefined ? undefined : this.#sessions.get(keySessionId);
    const key = named?.key(keyId);
    if (key !== undefined) return key;
    let found: Uint8Array | undefined;
    for (const session of this.#sessions.values()) found = session.key(keyId) ?? found;
    return found;
  }

  /** Closes and forgets every key session (the MediaKeys instance is destroyed). */
  close(): void {
    for (const id of this.keySessionIds()) this.removeKeySession(id);
  }

  #session(method: string, keySessionId: number): KeySession {
    const session = this.#sessions.get(keySessionId);
    if (session === undefined) {
      throw new RialtoError(
        "NOT_FOUND",
        `${method}: no key session ${describeValue(keySessionId)}`,
      );
    }
    return session;
  }
}

/** The key systems this session server has, and each one's version. */
export const KEY_SYSTEM_VERSIONS: Readonly<Record<string, string>> = Object.freeze({
  [CLEAR_KEY_SYSTEM]: "1.0",
});

/**
 * Creates a MediaKeys instance for `keySystem`. Only {@link CLEAR_KEY_SYSTEM} exists; any other
 * key system is `NOT_FOUND` (the code `keys/create` documents for an unsupported key system).
 */
export function createMediaKeys(keySystem: string, options?: MediaKeysOptions): ClearKeyMediaKeys {
  if (keySystem !== CLEAR_KEY_SYSTEM) {
    throw new RialtoError(
      "NOT_FOUND",
      `createMediaKeys: key system ${describeValue(keySystem)} is not supported (only ${CLEAR_KEY_SYSTEM})`,
    );
  }
  return new ClearKeyMediaKeys(options);
}
