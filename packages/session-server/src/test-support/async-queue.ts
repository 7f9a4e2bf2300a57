import { RialtoError, withDeadline } from "@rialto/protocol";

/** Default deadline of a test wait, ms: generous, because other engineers' tests share 2 cores. */
export const WAIT_MS = 10_000;

/**
 * Settles like `promise`, or rejects with a TIMEOUT RialtoError naming `what` after `ms`
 * (default {@link WAIT_MS}). Tests wait for events with this instead of sleeping a fixed time.
 */
export function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  return withDeadline(
    promise,
    ms,
    () => new RialtoError("TIMEOUT", `${what}: not within ${ms} ms`),
  );
}

/** Timeout of a test that drives real processes, ms (`setDefaultTimeout` in each such file). */
export const PROCESS_TEST_TIMEOUT_MS = 30_000;

/**
 * Items pushed by a callback (events, log lines), taken in order by a test with a deadline.
 * Everything pushed is also kept in {@link all}.
 */
export class AsyncQueue<T> {
  readonly all: T[] = [];
  readonly #items: T[] = [];
  readonly #waiters: ((item: T) => void)[] = [];

  push(item: T): void {
    this.all.push(item);
    const waiter = this.#waiters.shift();
    if (waiter === undefined) this.#items.push(item);
    else waiter(item);
  }

  /** Items pushed but not taken yet. */
  get pending(): readonly T[] {
    return this.#items;
  }

  /** The next item not taken yet; rejects after `ms`. */
  next(what: string, ms = WAIT_MS): Promise<T> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    let resolve!: (item: T) => void;
    const promise = new Promise<T>((r) => {
      resolve = r;
    });
    this.#waiters.push(resolve);
    return within(promise, what, ms).catch((error) => {
      this.#waiters.splice(this.#waiters.indexOf(resolve), 1);
      throw error;
    });
  }

  /** Takes items until one matches `predicate` and returns it; rejects after `ms`. */
  async waitFor(predicate: (item: T) => boolean, what: string, ms = WAIT_MS): Promise<T> {
    const end = performance.now() + ms;
    for (;;) {
      const item = await this.next(what, Math.max(1, end - performance.now()));
      if (predicate(item)) return item;
    }
  }
}
