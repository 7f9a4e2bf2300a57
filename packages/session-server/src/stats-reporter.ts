import { STATS_INTERVAL_MS, type StatsEvent } from "@rialto/protocol";

/** Options of {@link StatsReporter}. */
export interface StatsReporterOptions {
  /** The report now, or undefined when there is nothing to report (not configured). */
  collect(): StatsEvent | undefined;
  /** Sends one report to the manager (`control/stats`). */
  send(report: StatsEvent): void;
  /**
   * Whether the counters may change without anyone poking the reporter (clients connected,
   * pipelines alive): the periodic check runs only then. Default: always.
   */
  busy?(report: StatsEvent): boolean;
  /** Period of the check while busy, ms; default `STATS_INTERVAL_MS`. */
  intervalMs?: number;
}

/**
 * Sends the session server's media counters to its manager, only when they differ from the last
 * report sent, so an idle app costs its manager nothing. The check runs every `intervalMs` while
 * the server is busy (clients or pipelines) and not at all otherwise: an idle session server has
 * no timer. {@link poke} checks at once and restarts the periodic check if the server became
 * busy (the session server pokes on every accepted client connection and every health-check
 * ping). The timer is unref'd: it never keeps the process alive.
 */
export class StatsReporter {
  readonly #options: StatsReporterOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #started = false;
  #last = "";

  constructor(options: StatsReporterOptions) {
    this.#options = options;
  }

  /** Whether the periodic check is running now. */
  get ticking(): boolean {
    return this.#timer !== undefined;
  }

  /** Starts reporting: checks now, and periodically while busy. Idempotent. */
  start(): void {
    this.#started = true;
    this.poke();
  }

  /** Stops it. Idempotent. */
  stop(): void {
    this.#started = false;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Checks now; starts the periodic check if the server is busy. No-op before {@link start}. */
  poke(): void {
    if (!this.#started) return;
    this.#check();
    if (this.#timer !== undefined || !this.#isBusy()) return;
    this.#timer = setInterval(() => {
      this.#check();
      if (this.#isBusy()) return;
      clearInterval(this.#timer);
      this.#timer = undefined;
    }, this.#options.intervalMs ?? STATS_INTERVAL_MS);
    this.#timer.unref();
  }

  /** One check: sends the report if it changed. Returns whether it sent one. */
  tick(): boolean {
    return this.#check();
  }

  #check(): boolean {
    const report = this.#options.collect();
    if (report === undefined) return false;
    const text = JSON.stringify(report);
    if (text === this.#last) return false;
    this.#last = text;
    this.#options.send(report);
    return true;
  }

  #isBusy(): boolean {
    const report = this.#options.collect();
    if (report === undefined) return false;
    return this.#options.busy?.(report) ?? true;
  }
}
