import {
  type AnyEvent,
  type AnyMethod,
  type ParamsOf,
  type PayloadOf,
  type ResultOf,
  RialtoError,
} from "@rialto/protocol";

/**
 * What a {@link MediaKeys} or {@link WebAudioPlayer} needs of the client that created it: the
 * `RialtoClient` is one (its `call`, `onEvent` and `sharedMemory`); tests use a fake.
 */
export interface MediaHost {
  /** Calls a session-server method (exactly once, across reconnects). */
  call<M extends AnyMethod>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>>;
  /** Listens for an event the session server sends this client; returns an unsubscribe. */
  onEvent<E extends AnyEvent>(event: E, listener: (payload: PayloadOf<E>) => void): () => void;
  /** The AV shared memory while mapped (after `setApplicationState("Running")`). */
  readonly sharedMemory: { readonly memory: { readonly bytes: Uint8Array } } | undefined;
}

/** A media object's life as the client sees it (the same words as a pipeline's). */
export type MediaLifecycle = "created" | "destroyed" | "released";

/** A listener set per event name, for the small typed event surfaces of the media objects. */
export class Listeners<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  /** Adds `listener` for `event`; returns an unsubscribe. */
  add<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void {
    const set = this.#listeners.get(event) ?? new Set();
    this.#listeners.set(event, set);
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Calls every listener of `event`; a throwing listener does not stop the others. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        (listener as (payload: Events[K]) => void)(payload);
      } catch {
        // An app's listener failing must not break event delivery to the others.
      }
    }
  }
}

/**
 * The life of one media object (MediaKeys, web-audio player): `created` until the app destroys
 * it or the session server frees it (`released`); then its event subscriptions end and every
 * further call is INVALID_STATE.
 */
export class MediaLife {
  readonly #what: string;
  readonly #subscriptions: (() => void)[] = [];
  #lifecycle: MediaLifecycle = "created";

  /** `what` names the object in errors, e.g. `MediaKeys 3`. */
  constructor(what: string) {
    this.#what = what;
  }

  /** `created`, `destroyed` or `released`. */
  get lifecycle(): MediaLifecycle {
    return this.#lifecycle;
  }

  /** Ends `unsubscribe`'s subscription with the object's life. */
  track(unsubscribe: () => void): void {
    this.#subscriptions.push(unsubscribe);
  }

  /** Throws INVALID_STATE naming `method` unless the object is still `created`. */
  assertLive(method: string): void {
    if (this.#lifecycle !== "created") {
      throw new RialtoError("INVALID_STATE", `${method}: ${this.#what} is ${this.#lifecycle}`);
    }
  }

  /**
   * Destroys the object with `destroyCall` (a NOT_FOUND answer counts as done: the server freed
   * it meanwhile). Does nothing once it is no longer `created`.
   */
  async destroy(destroyCall: () => Promise<unknown>): Promise<void> {
    if (this.#lifecycle !== "created") return;
    try {
      await destroyCall();
    } catch (error) {
      if (!(error instanceof RialtoError && error.code === "NOT_FOUND")) throw error;
    }
    this.#end("destroyed");
  }

  /** The session server freed the object; true when it was still `created`. */
  release(): boolean {
    if (this.#lifecycle !== "created") return false;
    this.#end("released");
    return true;
  }

  #end(lifecycle: MediaLifecycle): void {
    this.#lifecycle = lifecycle;
    for (const unsubscribe of this.#subscriptions.splice(0)) unsubscribe();
  }
}
