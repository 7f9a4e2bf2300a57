import type { RpcPeer } from "@rialto/protocol";
import type { FdChannel } from "@rialto/shm";

/** Largest client id (ClientId on the wire: 1 .. 2^31 - 1). */
const MAX_CLIENT_ID = 2_147_483_647;

/** Largest fd tag (FdTag on the wire: 0 .. 2^31 - 1). */
const MAX_FD_TAG = 2_147_483_647;

/**
 * One client connection's state, kept as the connection's `peer.data`. The minimal gateway
 * forgets it when the connection closes (no grace period yet).
 */
export class ClientSession {
  /** Assigned by `session/register`; undefined before. */
  clientId: number | undefined;
  /** The fd side channel this client presented the token of, owned here. */
  fdChannel: FdChannel | undefined;
  /** True between a successful `getSharedMemory` and `releaseResources` (or Inactive). */
  holdsSharedMemory = false;
  #nextFdTag = 1;

  /** The next tag for a side-channel record (wraps around; tags only pair a record with a reply). */
  nextFdTag(): number {
    const tag = this.#nextFdTag;
    this.#nextFdTag = tag >= MAX_FD_TAG ? 1 : tag + 1;
    return tag;
  }

  /** Closes the side channel. Idempotent. */
  close(): void {
    this.fdChannel?.close();
    this.fdChannel = undefined;
    this.holdsSharedMemory = false;
  }
}

/** The RPC peer of one client connection. */
export type ClientPeer = RpcPeer<ClientSession>;

/** Hands out client ids 1, 2, 3, ... (wrapping past 2^31 - 1, skipping ids still in use). */
export class ClientIdAllocator {
  #next = 1;

  /** A fresh id not in `inUse`. */
  allocate(inUse: (id: number) => boolean): number {
    for (;;) {
      const id = this.#next;
      this.#next = id >= MAX_CLIENT_ID ? 1 : id + 1;
      if (!inUse(id)) return id;
    }
  }
}
