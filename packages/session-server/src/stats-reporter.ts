import { STATS_INTERVAL_MS, type StatsEvent } from "@rialto/protocol";

/** Options of {@link StatsReporter}. */
export interface StatsReporterOptions {
  /** The report now, or undefined when there is nothing to report (not configured). */
  collect(): StatsEvent | undefined;
  /** Sends one report to the manager (`control/stats`). */
  send(report: StatsEvent): void;
  /** Period of the check, ms; default `STATS_INTERVAL_MS`. */
  intervalMs?: number;
}

/**
 * Sends the session server's media counters to its manager: every `intervalMs` the report is
 * built and sent only if it differs from the last one sent, so an idle app costs its manager
 * nothing. The timer is unref'd: it never keeps the process alive.
 */
export class StatsReporter {
  readonly #options: StatsReporterOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #last = "";

  constructor(options: StatsReporterOptions) {
    this.#options = options;
  }

  /** Starts the periodic check. Idempotent. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.tick(), this.#options.intervalMs ?? STATS_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Stops it. Idempotent. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One check: sends the report if it changed. Returns whether it sent one. */
  tick(): boolean {
    const report = this.#options.collect();
    if (report === undefined) return false;
    const text = JSON.stringify(report);
    if (text === this.#last) return false;
    this.#last = text;
    this.#options.send(report);
    return true;
  }
}
