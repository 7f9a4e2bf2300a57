import type { MethodRouter, RegisteredClient } from "@rialto/protocol";
import type { FdChannel, ShmPoolView } from "@rialto/shm";
import { MAX_HANDLE } from "./handle-allocator.ts";

/** A registered client as the handlers and the resource books see it. */
export type Client = RegisteredClient<ClientState>;

/** The router every client method is registered on. */
export type ClientRouter = MethodRouter<Client>;

/** A client's registered shared-memory RPC pool. */
export interface RegisteredPool {
  readonly id: number;
  readonly view: ShmPoolView;
}

/**
 * The session server's state for one client, kept across its reconnects until the client is
 * released (grace period over, or the session server stopping): its fd side channel, its shm
 * RPC pool and the pool calls it has running. Its media resources are in the app's books
 * (pipelines, media keys, web-audio players), each keyed by owner.
 */
export class ClientState {
  /** The fd side channel of the client's latest registration that presented a token. */
  fdChannel: FdChannel | undefined;
  /** True between a successful `getSharedMemory` and `releaseResources` (or Inactive). */
  holdsSharedMemory = false;
  /** The client's shm RPC pool, once registered. */
  pool: RegisteredPool | undefined;
  /** Pool calls running now, per service (`pipeline`, `keys`, ...). */
  readonly shmCallsRunning = new Map<string, number>();
  #nextFdTag = 1;
  #nextPoolId = 1;

  /** The next tag for a side-channel record (wraps; tags only pair a record with a reply). */
  nextFdTag(): number {
    const tag = this.#nextFdTag;
    this.#nextFdTag = tag >= MAX_HANDLE ? 1 : tag + 1;
    return tag;
  }

  /** Uses `channel` as the side channel from now on (closing the previous one). */
  replaceSideChannel(channel: FdChannel): void {
    if (this.fdChannel !== channel) this.fdChannel?.close();
    this.fdChannel = channel;
  }

  /** Uses `view` as the client's pool from now on (unmapping the previous one); returns its id. */
  replacePool(view: ShmPoolView): RegisteredPool {
    this.pool?.view.close();
    const id = this.#nextPoolId;
    this.#nextPoolId = id >= MAX_HANDLE ? 1 : id + 1;
    this.pool = { id, view };
    return this.pool;
  }

  /** Closes the side channel and unmaps the pool. Idempotent. */
  close(): void {
    this.fdChannel?.close();
    this.fdChannel = undefined;
    this.pool?.view.close();
    this.pool = undefined;
    this.holdsSharedMemory = false;
  }
}
