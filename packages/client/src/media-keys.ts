import {
  type InitDataType,
  type KeySessionType,
  type KeyStatusesChangedEvent,
  type LicenseRequestEvent,
  MediaKeysEvents,
  MediaKeysMethods,
} from "@rialto/protocol";
import { Listeners, type MediaHost, MediaLife, type MediaLifecycle } from "./media-host.ts";

/** The events of a {@link MediaKeys} instance. */
export interface MediaKeysEventMap {
  /**
   * A key session's license request, to forward to the license server. ClearKey's is the W3C
   * JSON request `{"kids":[...],"type":"temporary"}` as text (`messageEncoding: "utf8"`).
   */
  licenseRequest: LicenseRequestEvent;
  /** A key session's key statuses (every key it holds; none once closed). */
  keyStatusesChanged: KeyStatusesChangedEvent;
  /** The session server freed this instance (the app or client went Inactive, or the client was forgotten). */
  released: { mediaKeysId: number };
}

/**
 * A MediaKeys instance in the session server (SPEC 6 and 9, Rialto's `IMediaKeys`, W3C EME
 * names), created by `RialtoClient.createMediaKeys("org.w3.clearkey")`. Its key sessions live
 * in the session server, which decrypts frames naming them before rendering. Calls reject with
 * the server's `RialtoError` (INVALID_STATE while the app is not Running, NOT_FOUND for a key
 * session this instance does not hold, INVALID_ARGUMENT for bad init data or a bad license), and
 * with INVALID_STATE once the instance is destroyed or released.
 */
export class MediaKeys {
  /** The session server's id of this instance. */
  readonly id: number;
  /** The key system, `org.w3.clearkey`. */
  readonly keySystem: string;
  readonly #host: MediaHost;
  readonly #life: MediaLife;
  readonly #listeners = new Listeners<MediaKeysEventMap>();
  readonly #keySessions = new Set<number>();

  /** @internal Use {@link MediaKeys.create} (through `RialtoClient.createMediaKeys`). */
  constructor(host: MediaHost, id: number, keySystem: string) {
    this.#host = host;
    this.id = id;
    this.keySystem = keySystem;
    this.#life = new MediaLife(`MediaKeys ${id}`);
    // Events are per client: each instance takes its own key sessions' ones.
    this.#life.track(
      host.onEvent(MediaKeysEvents.licenseRequest, (event) => {
        if (this.#keySessions.has(event.keySessionId))
          this.#listeners.emit("licenseRequest", event);
      }),
    );
    this.#life.track(
      host.onEvent(MediaKeysEvents.keyStatusesChanged, (event) => {
        if (this.#keySessions.has(event.keySessionId)) {
          this.#listeners.emit("keyStatusesChanged", event);
        }
      }),
    );
  }

  /** Creates an instance for `keySystem` in the session server; NOT_FOUND for an unknown one. */
  static async create(host: MediaHost, keySystem: string): Promise<MediaKeys> {
    const { mediaKeysId } = await host.call(MediaKeysMethods.create, { keySystem });
    return new MediaKeys(host, mediaKeysId, keySystem);
  }

  /** `created`, `destroyed` (by {@link destroy}) or `released` (freed by the session server). */
  get lifecycle(): MediaLifecycle {
    return this.#life.lifecycle;
  }

  /** Ids of the key sessions this instance holds (created and not removed). */
  get keySessionIds(): number[] {
    return [...this.#keySessions];
  }

  /** Listens for one of {@link MediaKeysEventMap}; returns an unsubscribe. */
  on<K extends keyof MediaKeysEventMap>(
    event: K,
    listener: (payload: MediaKeysEventMap[K]) => void,
  ): () => void {
    return this.#listeners.add(event, listener);
  }

  /** Creates a key session (only `temporary` exists); resolves with its server-wide id. */
  async createKeySession(sessionType: KeySessionType = "temporary"): Promise<number> {
    this.#life.assertLive("createKeySession");
    const { keySessionId } = await this.#host.call(MediaKeysMethods.createKeySession, {
      mediaKeysId: this.id,
      sessionType,
    });
    this.#keySessions.add(keySessionId);
    return keySessionId;
  }

  /**
   * Asks for a license: `cenc` init data is the concatenated `pssh` boxes, `keyids` the JSON
   * `{"kids":[...]}` as bytes, `webm` one key id (at most 64 KiB). The `licenseRequest` event
   * arrives before this resolves.
   */
  async generateRequest(
    keySessionId: number,
    initDataType: InitDataType,
    initData: Uint8Array,
  ): Promise<void> {
    this.#life.assertLive("generateRequest");
    await this.#host.call(MediaKeysMethods.generateRequest, {
      keySessionId,
      initDataType,
      initData: initData.toBase64(),
    });
  }

  /**
   * Hands the license server's response to the key session: text as it is (ClearKey's JWK set),
   * bytes as base64. The `keyStatusesChanged` event arrives before this resolves.
   */
  async updateSession(keySessionId: number, response: string | Uint8Array): Promise<void> {
    this.#life.assertLive("updateSession");
    await this.#host.call(MediaKeysMethods.updateSession, {
      keySessionId,
      ...(typeof response === "string"
        ? { response, responseEncoding: "utf8" as const }
        : { response: response.toBase64(), responseEncoding: "base64" as const }),
    });
  }

  /** Closes a key session: its keys are released; the id stays valid until removed. */
  async closeKeySession(keySessionId: number): Promise<void> {
    this.#life.assertLive("closeKeySession");
    await this.#host.call(MediaKeysMethods.closeKeySession, { keySessionId });
  }

  /** Closes (if open) and removes a key session. */
  async removeKeySession(keySessionId: number): Promise<void> {
    this.#life.assertLive("removeKeySession");
    await this.#host.call(MediaKeysMethods.removeKeySession, { keySessionId });
    this.#keySessions.delete(keySessionId);
  }

  /** Whether a key session holds a usable key of `keyId` (16 bytes, or 32 hex digits). */
  async containsKey(keySessionId: number, keyId: Uint8Array | string): Promise<boolean> {
    this.#life.assertLive("containsKey");
    const hex = typeof keyId === "string" ? keyId.toLowerCase() : keyId.toHex();
    return (await this.#host.call(MediaKeysMethods.containsKey, { keySessionId, keyId: hex }))
      .supported;
  }

  /** The CDM's id of a key session (for logs and license servers). */
  async getCdmKeySessionId(keySessionId: number): Promise<string> {
    this.#life.assertLive("getCdmKeySessionId");
    return (await this.#host.call(MediaKeysMethods.getCdmKeySessionId, { keySessionId }))
      .cdmKeySessionId;
  }

  /** Destroys the instance and its key sessions. Resolves at once if already gone. */
  async destroy(): Promise<void> {
    await this.#life.destroy(() =>
      this.#host.call(MediaKeysMethods.destroy, { mediaKeysId: this.id }),
    );
  }

  /** @internal The session server freed this instance. */
  markReleased(): void {
    if (this.#life.release()) this.#listeners.emit("released", { mediaKeysId: this.id });
  }
}
