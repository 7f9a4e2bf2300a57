import {
  type CreateKeySessionParams,
  MediaKeysEvents,
  type MediaKeysId,
  MediaKeysMethods,
  RialtoError,
} from "@rialto/protocol";
import { type ClearKeyMediaKeys, createMediaKeys, type KeyStore } from "../keys/index.ts";
import type { Client } from "./client-state.ts";
import { HandleAllocator } from "./handle-allocator.ts";

/** One MediaKeys instance a client created. */
interface MediaKeysRecord {
  readonly id: MediaKeysId;
  /** The client that created it (the only one that may call it). */
  readonly clientId: number;
  readonly mediaKeys: ClearKeyMediaKeys;
}

/** What {@link MediaKeysBook.releaseClient} freed. */
export interface ReleasedMediaKeys {
  readonly mediaKeys: number;
  readonly keySessions: number;
}

/**
 * The app's CDM (SPEC 9, Rialto's CdmService): every MediaKeys instance of every client and
 * every key session, by id. Key session ids come from one allocator, so they are unique in the
 * session server; that makes the book the app's {@link KeyStore}: a frame names its key
 * session, and the session's MediaKeys finds the key (see {@link findKey}). Calls naming a
 * MediaKeys or key session another client created are `NOT_FOUND`, as are unknown ids.
 */
export class MediaKeysBook implements KeyStore {
  readonly #records = new Map<number, MediaKeysRecord>();
  /** The MediaKeys holding each key session. */
  readonly #sessions = new Map<number, MediaKeysRecord>();
  readonly #mediaKeysIds = new HandleAllocator("MediaKeys id", (id) => this.#records.has(id));
  readonly #keySessionIds = new HandleAllocator("key session id", (id) => this.#sessions.has(id));

  /** MediaKeys instances alive over every client. */
  get mediaKeysCount(): number {
    return this.#records.size;
  }

  /** Key sessions (open or closed, not removed) over every client. */
  get keySessionCount(): number {
    return this.#sessions.size;
  }

  /**
   * Creates a MediaKeys instance for `client`, whose `keys/licenseRequest` and
   * `keys/keyStatusesChanged` events go to that client as sequenced events. Only
   * `org.w3.clearkey` exists: any other key system is `NOT_FOUND`.
   */
  create(client: Client, keySystem: string): MediaKeysId {
    const mediaKeys = createMediaKeys(keySystem, {
      allocateKeySessionId: () => this.#keySessionIds.allocate(),
      events: {
        // A released client's resources go quietly: nobody is left to tell.
        licenseRequest: (event) => {
          if (!client.released) client.emit(MediaKeysEvents.licenseRequest, event);
        },
        keyStatusesChanged: (event) => {
          if (!client.released) client.emit(MediaKeysEvents.keyStatusesChanged, event);
        },
      },
    });
    const id = this.#mediaKeysIds.allocate();
    this.#records.set(id, { id, clientId: client.id, mediaKeys });
    return id;
  }

  /** Creates a key session in `client`'s MediaKeys `params.mediaKeysId`; returns its id. */
  createKeySession(client: Client, params: CreateKeySessionParams): number {
    const record = this.#own(client, params.mediaKeysId, MediaKeysMethods.createKeySession.name);
    const keySessionId = record.mediaKeys.createKeySession(params.sessionType);
    this.#sessions.set(keySessionId, record);
    return keySessionId;
  }

  /** The MediaKeys holding `client`'s key session `keySessionId`; NOT_FOUND otherwise. */
  holderOf(client: Client, keySessionId: number, method: string): ClearKeyMediaKeys {
    const record = this.#sessions.get(keySessionId);
    if (record === undefined || record.clientId !== client.id) {
      throw new RialtoError(
        "NOT_FOUND",
        `"${method}": client ${client.id} has no key session ${keySessionId}`,
      );
    }
    return record.mediaKeys;
  }

  /** Closes (if open) and forgets `client`'s key session; its id is NOT_FOUND afterwards. */
  removeKeySession(client: Client, keySessionId: number): void {
    this.holderOf(client, keySessionId, MediaKeysMethods.removeKeySession.name).removeKeySession(
      keySessionId,
    );
    this.#sessions.delete(keySessionId);
  }

  /** Destroys `client`'s MediaKeys `mediaKeysId` with every key session it holds. */
  destroy(client: Client, mediaKeysId: MediaKeysId): void {
    this.#free(this.#own(client, mediaKeysId, MediaKeysMethods.destroy.name));
  }

  /** Destroys every MediaKeys of the client `clientId`; returns what was freed. */
  releaseClient(clientId: number): ReleasedMediaKeys {
    let mediaKeys = 0;
    let keySessions = 0;
    for (const record of [...this.#records.values()]) {
      if (record.clientId !== clientId) continue;
      mediaKeys++;
      keySessions += this.#free(record);
    }
    return { mediaKeys, keySessions };
  }

  /**
   * The key for `keyId` as the frame that names `keySessionId` should get it: the MediaKeys
   * holding that key session looks in the session first, then in its other open sessions (see
   * `ClearKeyMediaKeys.findKey`). A frame naming no live key session finds no key.
   */
  findKey(keyId: Uint8Array, keySessionId?: number): Uint8Array | undefined {
    if (keySessionId === undefined) return undefined;
    return this.#sessions.get(keySessionId)?.mediaKeys.findKey(keyId, keySessionId);
  }

  #own(client: Client, mediaKeysId: MediaKeysId, method: string): MediaKeysRecord {
    const record = this.#records.get(mediaKeysId);
    if (record === undefined || record.clientId !== client.id) {
      throw new RialtoError(
        "NOT_FOUND",
        `"${method}": client ${client.id} has no MediaKeys ${mediaKeysId}`,
      );
    }
    return record;
  }

  /** Closes the instance and forgets it and its key sessions; returns how many sessions it held. */
  #free(record: MediaKeysRecord): number {
    const keySessionIds = record.mediaKeys.keySessionIds();
    record.mediaKeys.close();
    for (const id of keySessionIds) this.#sessions.delete(id);
    this.#records.delete(record.id);
    return keySessionIds.length;
  }
}
