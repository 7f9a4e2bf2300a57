import { toRialtoError } from "@rialto/protocol";

/**
 * Lets a running job keep the queue busy after its caller got the answer: `hold(promise)` makes
 * the next job wait until `promise` settles or `deadlineMs` pass, whichever comes first.
 */
export type HoldQueue = (until: Promise<unknown>, deadlineMs: number) => void;

/** A job of the {@link WorkQueue}. */
export type Job<T> = (hold: HoldQueue) => Promise<T> | T;

/**
 * One queue per manager (STYLE 7): jobs run one after another, in the order they were queued, so
 * concurrent calls on one app see each other's effects. A job's caller is answered as soon as the
 * job returns (the OK/ERROR of the seeds' sequences); the job may hold the queue until the state
 * change it started has settled, so the next call runs against the state it produced.
 */
export class WorkQueue {
  #tail: Promise<void> = Promise.resolve();
  #length = 0;

  /** Jobs queued or running. */
  get length(): number {
    return this.#length;
  }

  /** Queues `job`; resolves with its result or rejects with its error as a RialtoError. */
  enqueue<T>(job: Job<T>): Promise<T> {
    this.#length++;
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    this.#tail = this.#tail.then(async () => {
      const holds: Promise<unknown>[] = [];
      const hold: HoldQueue = (until, deadlineMs) => holds.push(withDeadline(until, deadlineMs));
      try {
        resolve(await job(hold));
      } catch (error) {
        reject(toRialtoError(error));
      }
      await Promise.all(holds);
      this.#length--;
    });
    return promise;
  }
}

function withDeadline(until: Promise<unknown>, deadlineMs: number): Promise<void> {
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
