/** One moment of the demo's lifecycle. */
export interface TimelineEntry {
  /** ms since the timeline started. */
  readonly atMs: number;
  /** Who saw or did it: `manager`, `client`, `pipeline`, `demo`. */
  readonly actor: string;
  /** What, e.g. `stateChanged(demo, Active)`. */
  readonly what: string;
}

/**
 * The lifecycle of a demo run with times: the server manager's `stateChanged` events, the
 * clients' application states, the pipelines' playback states and the calls that caused them.
 */
export class LifecycleTimeline {
  readonly #entries: TimelineEntry[] = [];
  readonly #now: () => number;
  readonly #startMs: number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
    this.#startMs = now();
  }

  /** Every entry so far, in order. */
  get entries(): readonly TimelineEntry[] {
    return this.#entries;
  }

  /** Records that `actor` saw or did `what`, now. */
  record(actor: string, what: string): void {
    this.#entries.push({ atMs: this.#now() - this.#startMs, actor, what });
  }

  /** The printable timeline, one line per entry: `  +1234.5 ms  manager   stateChanged(...)`. */
  lines(): string[] {
    const width = Math.max(0, ...this.#entries.map((e) => e.actor.length));
    return this.#entries.map(
      ({ atMs, actor, what }) =>
        `${`+${atMs.toFixed(1)}`.padStart(9)} ms  ${actor.padEnd(width)}  ${what}`,
    );
  }
}
