import { MAX_INT32, RialtoError } from "@rialto/protocol";

/** Largest wire handle (`Handle`: 0 .. 2^31 - 1). */
export const MAX_HANDLE = MAX_INT32;

/**
 * Hands out wire handles 1, 2, 3, ... up to {@link MAX_HANDLE}, then wraps to 1, skipping the
 * handles `inUse` says are still taken, so a handle names one live object at a time.
 */
export class HandleAllocator {
  readonly #what: string;
  readonly #inUse: (handle: number) => boolean;
  #next = 1;

  /** `what` names the handles in the error when every one is taken (e.g. `key session id`). */
  constructor(what: string, inUse: (handle: number) => boolean) {
    this.#what = what;
    this.#inUse = inUse;
  }

  /** The next free handle; RESOURCE_EXHAUSTED if all 2^31 - 1 are in use. */
  allocate(): number {
    for (let tries = 0; tries < MAX_HANDLE; tries++) {
      const handle = this.#next;
      this.#next = handle >= MAX_HANDLE ? 1 : handle + 1;
      if (!this.#inUse(handle)) return handle;
    }
    throw new RialtoError("RESOURCE_EXHAUSTED", `every ${this.#what} is in use`);
  }
}
