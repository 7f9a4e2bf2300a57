import { readFileSync } from "node:fs";

/** Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`: 100 on Linux). */
const CLOCK_TICKS_PER_SECOND = 100;
/** Page size of the `rss` field (4 KiB on the architectures Rialto targets). */
const PAGE_SIZE = 4096;

/** One reading of a process's memory and CPU use. */
export interface ProcessUsage {
  /** Resident set size, bytes. */
  rssBytes: number;
  /** User + system CPU time since the process started, seconds. */
  cpuSeconds: number;
}

/**
 * Reads `/proc/<pid>/stat` (one read, no shell-out): resident memory and CPU time. Undefined
 * when the process is gone or the file cannot be parsed.
 */
export function readProcessUsage(pid: number): ProcessUsage | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // proc(5): utime is field 14, stime 15, rss 24; fields[0] here is field 3 (state).
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const rssPages = Number(fields[21]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || !Number.isFinite(rssPages)) {
    return undefined;
  }
  return { rssBytes: rssPages * PAGE_SIZE, cpuSeconds: (utime + stime) / CLOCK_TICKS_PER_SECOND };
}

/** A reading of {@link ProcessSampler}: usage plus the CPU share since the previous reading. */
export interface SampledUsage extends ProcessUsage {
  /** Percent of one core used since the previous reading (0 at the first). */
  cpuPercent: number;
}

/** Default age after which a reading is taken again, ms. */
export const PROCESS_SAMPLE_MS = 5000;

/**
 * Readings of session servers' `/proc/<pid>/stat`, each taken again only once it is older than
 * `maxAgeMs`: a scrape every second and the page's updates share them, so 50 apps cost 50 file
 * reads every few seconds rather than twice a second. The CPU share is computed between two
 * real readings.
 */
export class ProcessSampler {
  readonly #readings = new Map<number, SampledUsage & { atMs: number }>();
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #read: (pid: number) => ProcessUsage | undefined;

  constructor(
    maxAgeMs = PROCESS_SAMPLE_MS,
    now: () => number = () => performance.now(),
    read: (pid: number) => ProcessUsage | undefined = readProcessUsage,
  ) {
    this.#maxAgeMs = maxAgeMs;
    this.#now = now;
    this.#read = read;
  }

  /** The latest reading of `pid`, taken now if the last one is too old; undefined if it is gone. */
  usage(pid: number): SampledUsage | undefined {
    const atMs = this.#now();
    const last = this.#readings.get(pid);
    if (last !== undefined && atMs - last.atMs < this.#maxAgeMs) return last;
    const usage = this.#read(pid);
    if (usage === undefined) {
      this.#readings.delete(pid);
      return undefined;
    }
    let cpuPercent = 0;
    if (last !== undefined && atMs > last.atMs) {
      const percent = ((usage.cpuSeconds - last.cpuSeconds) * 1000 * 100) / (atMs - last.atMs);
      cpuPercent = Math.max(0, Math.round(percent * 10) / 10);
    }
    const reading = { ...usage, cpuPercent, atMs };
    this.#readings.set(pid, reading);
    return reading;
  }

  /** Forgets every pid not in `alive` (processes that are gone). */
  retain(alive: ReadonlySet<number>): void {
    for (const pid of this.#readings.keys()) if (!alive.has(pid)) this.#readings.delete(pid);
  }
}
