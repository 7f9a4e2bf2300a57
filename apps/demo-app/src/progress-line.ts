/** What the progress line shows. */
export interface ProgressSnapshot {
  /** Playback position, ns. */
  readonly positionNs: number;
  /** Duration of the movie, ns. */
  readonly durationNs: number;
  /** Frames rendered so far, every source. */
  readonly frames: number;
  /** Frames in the movie, every source. */
  readonly totalFrames: number;
  /** Bytes rendered so far, every source. */
  readonly bytes: number;
}

/** Where the line goes (`process.stdout` fits). */
export interface ProgressOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** Plain lines (not a TTY) come at most this often, ms. */
const PLAIN_INTERVAL_MS = 1000;
const BAR_WIDTH = 24;

function clock(ns: number): string {
  const totalMs = Math.max(0, Math.round(ns / 1e6));
  const minutes = Math.floor(totalMs / 60_000);
  const seconds = ((totalMs % 60_000) / 1000).toFixed(2).padStart(5, "0");
  return `${minutes}:${seconds}`;
}

/** Media bitrate: rendered bits per second of media played, as `123 kb/s`. */
function bitrate({ bytes, positionNs }: ProgressSnapshot): string {
  if (positionNs <= 0) return "- kb/s";
  return `${Math.round((bytes * 8) / (positionNs / 1e9) / 1000)} kb/s`;
}

/**
 * A live progress line: on a TTY one line rewritten in place (position / duration, a bar,
 * frames, bitrate); elsewhere (a pipe, a log file, CI) a plain line at most once a second.
 */
export class ProgressLine {
  readonly #out: ProgressOutput;
  readonly #label: string;
  readonly #now: () => number;
  #lastPlainMs = Number.NEGATIVE_INFINITY;
  #shown = false;

  constructor(out: ProgressOutput, label = "", now: () => number = () => performance.now()) {
    this.#out = out;
    this.#label = label === "" ? "" : `${label} `;
    this.#now = now;
  }

  /** Shows `snapshot` (throttled when not on a TTY). */
  update(snapshot: ProgressSnapshot): void {
    if (this.#out.isTTY) {
      this.#out.write(`\r\x1b[2K${this.#format(snapshot)}`);
      this.#shown = true;
      return;
    }
    const now = this.#now();
    if (now - this.#lastPlainMs < PLAIN_INTERVAL_MS) return;
    this.#lastPlainMs = now;
    this.#out.write(`${this.#format(snapshot)}\n`);
  }

  /** Shows the final `snapshot` and ends the line. */
  finish(snapshot: ProgressSnapshot): void {
    const line = this.#format(snapshot);
    this.#out.write(this.#out.isTTY && this.#shown ? `\r\x1b[2K${line}\n` : `${line}\n`);
    this.#shown = false;
  }

  #format(snapshot: ProgressSnapshot): string {
    const { positionNs, durationNs, frames, totalFrames } = snapshot;
    const done = durationNs > 0 ? Math.min(1, positionNs / durationNs) : 0;
    const filled = Math.round(done * BAR_WIDTH);
    const bar = `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}]`;
    return `${this.#label}${clock(positionNs)} / ${clock(durationNs)} ${bar} frames ${frames}/${totalFrames}  ${bitrate(snapshot)}`;
  }
}
