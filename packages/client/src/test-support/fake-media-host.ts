import {
  type AnyEvent,
  type AnyMethod,
  type ParamsOf,
  type PayloadOf,
  type ResultOf,
  RialtoError,
} from "@rialto/protocol";
import type { MediaHost } from "../media-host.ts";

/** A call the fake was sent. */
export interface FakeCall {
  readonly method: string;
  readonly params: unknown;
}

/**
 * An in-process stand-in for the session server behind a {@link MediaHost}: handlers per
 * method (validated like the real router does: params before, result after), events pushed
 * to the listeners synchronously, and a plain byte array as the AV mapping.
 */
export class FakeMediaHost implements MediaHost {
  /** Every call, in order. */
  readonly calls: FakeCall[] = [];
  sharedMemory: { memory: { bytes: Uint8Array } } | undefined;
  readonly #handlers = new Map<string, (params: unknown) => unknown>();
  readonly #listeners = new Map<string, Set<(payload: unknown) => void>>();

  constructor(mappingBytes = 0) {
    if (mappingBytes > 0) this.sharedMemory = { memory: { bytes: new Uint8Array(mappingBytes) } };
  }

  /** Serves `method` with `handler` (it may throw a RialtoError, as a server handler would). */
  handle<M extends AnyMethod>(method: M, handler: (params: ParamsOf<M>) => ResultOf<M>): this {
    this.#handlers.set(method.name, handler as (params: unknown) => unknown);
    return this;
  }

  async call<M extends AnyMethod>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    this.calls.push({ method: method.name, params });
    method.params.assert(params, `"${method.name}" params`);
    const handler = this.#handlers.get(method.name);
    if (handler === undefined) {
      throw new RialtoError("UNKNOWN_METHOD", `the fake does not serve "${method.name}"`);
    }
    return method.result.assert(handler(params), `"${method.name}" result`) as ResultOf<M>;
  }

  onEvent<E extends AnyEvent>(event: E, listener: (payload: PayloadOf<E>) => void): () => void {
    const set = this.#listeners.get(event.name) ?? new Set();
    this.#listeners.set(event.name, set);
    set.add(listener as (payload: unknown) => void);
    return () => set.delete(listener as (payload: unknown) => void);
  }

  /** Sends `event` to every listener now, as the server's event would arrive. */
  emit<E extends AnyEvent>(event: E, payload: PayloadOf<E>): void {
    event.payload.assert(payload, `"${event.name}" payload`);
    for (const listener of this.#listeners.get(event.name) ?? []) listener(payload);
  }

  /** Listeners registered for `event` now. */
  listenerCount(event: AnyEvent): number {
    return this.#listeners.get(event.name)?.size ?? 0;
  }
}
