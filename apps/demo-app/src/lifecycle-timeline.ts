import type { MonitorMessage } from "@rialto/protocol";

/** One moment of the demo's lifecycle. */
export interface TimelineEntry {
  /** ms since the timeline started. */
  readonly atMs: number;
  /** Who saw or did it: `manager`, `monitor`, `client`, `keys`, `pipeline`, `demo`. */
  readonly actor: string;
  /** What, e.g. `stateChanged(demo, Active)`. */
  readonly what: string;
}

/**
 * A monitor message as one timeline line, in the style of the manager's events:
 * `start_request(demo, Active)`, `started(demo)`, `state_changed(demo, Inactive)`; the state list
 * a monitor gets first as `client_state(demo, Active, started)` and `client_state_end(count 1)`.
 */
export function describeMonitorMessage(message: MonitorMessage): string {
  switch (message.type) {
    case "client_event":
      return message.state === undefined
        ? `${message.event}(${message.appId})`
        : `${message.event}(${message.appId}, ${message.state})`;
    case "client_state":
      return `client_state(${message.appId}, ${message.state}, ${message.isStarted ? "started" : "not started"})`;
    case "client_state_end":
      return `client_state_end(count ${message.count})`;
  }
}

/**
 * The lifecycle of a demo run with times: the server manager's `stateChanged` events, its
 * monitor's `client_event`s, the clients' application states, the license steps, the
 * pipelines' playback states and the calls that caused them.
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
