/** Counters and latency of one method. */
export interface MethodStats {
  /** Calls that settled. */
  count: number;
  /** Of those, calls that failed (any error, timeouts included). */
  errors: number;
  /** Mean time from call to settlement, in milliseconds. */
  meanMs: number;
  /** Longest time from call to settlement, in milliseconds. */
  maxMs: number;
}

interface Accumulator {
  count: number;
  errors: number;
  totalMs: number;
  maxMs: number;
}

/** Per-method call counts and latencies (the retry-RPC design's per-method bucket stats). */
export class CallStats {
  readonly #methods = new Map<string, Accumulator>();

  /** Records one settled call of `method` that took `ms` milliseconds. */
  record(method: string, ms: number, failed: boolean): void {
    let entry = this.#methods.get(method);
    if (entry === undefined) {
      entry = { count: 0, errors: 0, totalMs: 0, maxMs: 0 };
      this.#methods.set(method, entry);
    }
    entry.count++;
    if (failed) entry.errors++;
    entry.totalMs += ms;
    if (ms > entry.maxMs) entry.maxMs = ms;
  }

  /** Settled calls over every method. */
  get total(): number {
    let total = 0;
    for (const entry of this.#methods.values()) total += entry.count;
    return total;
  }

  /** A copy of the counters, keyed by wire method name. */
  snapshot(): Record<string, MethodStats> {
    const result: Record<string, MethodStats> = {};
    for (const [method, entry] of this.#methods) {
      result[method] = {
        count: entry.count,
        errors: entry.errors,
        meanMs: entry.count === 0 ? 0 : entry.totalMs / entry.count,
        maxMs: entry.maxMs,
      };
    }
    return result;
  }
}
