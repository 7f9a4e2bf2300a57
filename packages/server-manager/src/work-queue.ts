import { toRialtoError } from "@rialto/protocol";

/**
 * Lets a running job keep its lane busy after its caller got the answer: `hold(promise)` makes
 * the next job of the same lane (and any barrier) wait until `promise` settles or `deadlineMs`
 * pass, whichever comes first.
 */
export type HoldQueue = (until: Promise<unknown>, deadlineMs: number) => void;

/** A job of the {@link WorkQueue}. */
export type Job<T> = (hold: HoldQueue) => Promise<T> | T;

/** Options of {@link WorkQueue}. */
export interface WorkQueueOptions {
  /** Most jobs of different lanes running (or holding) at once; default 4. */
  concurrency?: number;
}

/**
 * The manager's work queue (STYLE 7), one per manager. Each app has a lane: the jobs of one app
 * run one after another, in the order they were queued, so concurrent calls on one app see each
 * other's effects. Lanes of different apps run side by side, at most `concurrency` at once, so
 * fifty apps start in overlapping batches instead of one at a time, and a start-up is never
 * starved by all the others (the READY timer runs from each spawn). A job without a lane is a
 * barrier: it runs alone, after every job queued before it, and before every job queued after.
 * A job's caller is answered as soon as the job returns (the OK/ERROR of the seeds' sequences);
 * the job may hold its lane (and its share of the concurrency) until the state change it started
 * has settled.
 */
export class WorkQueue {
  readonly #concurrency: number;
  readonly #lanes = new Map<string, Promise<void>>();
  readonly #running = new Set<Promise<void>>();
  readonly #slotWaiters: (() => void)[] = [];
  #barrier: Promise<void> = Promise.resolve();
  #busySlots = 0;
  #length = 0;

  constructor(options: WorkQueueOptions = {}) {
    this.#concurrency = options.concurrency ?? 4;
  }

  /** Jobs queued or running. */
  get length(): number {
    return this.#length;
  }

  /**
   * Queues `job` in `lane` (an app id), or as a barrier without one; resolves with its result
   * or rejects with its error as a RialtoError.
   */
  enqueue<T>(job: Job<T>, lane?: string): Promise<T> {
    this.#length++;
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    const run = async () => {
      const holds: Promise<unknown>[] = [];
      const hold: HoldQueue = (until, deadlineMs) => holds.push(waitAtMost(until, deadlineMs));
      try {
        resolve(await job(hold));
      } catch (error) {
        reject(toRialtoError(error));
      }
      await Promise.all(holds);
      this.#length--;
    };
    if (lane === undefined) {
      const before = [this.#barrier, ...this.#running];
      this.#barrier = Promise.all(before).then(run);
      return promise;
    }
    const previous = this.#lanes.get(lane) ?? Promise.resolve();
    const done: Promise<void> = Promise.all([previous, this.#barrier])
      .then(() => this.#acquire())
      .then(run)
      .finally(() => {
        this.#release();
        this.#running.delete(done);
        if (this.#lanes.get(lane) === done) this.#lanes.delete(lane);
      });
    this.#lanes.set(lane, done);
    this.#running.add(done);
    return promise;
  }

  #acquire(): Promise<void> | undefined {
    if (this.#busySlots < this.#concurrency) {
      this.#busySlots++;
      return undefined;
    }
    return new Promise<void>((resolve) => this.#slotWaiters.push(resolve));
  }

  #release(): void {
    const next = this.#slotWaiters.shift();
    // The slot passes straight to the next waiter.
    if (next !== undefined) next();
    else this.#busySlots--;
  }
}

/** Resolves when `until` settles (either way) or after `deadlineMs`, whichever comes first. */
function waitAtMost(until: Promise<unknown>, deadlineMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, deadlineMs);
    until.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}
