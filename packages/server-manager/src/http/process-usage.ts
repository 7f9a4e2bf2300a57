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

/**
 * CPU use of processes between two readings: {@link sample} returns the share of one core each
 * process used since it was last sampled (0 at the first reading of a pid).
 */
export class CpuSampler {
  readonly #last = new Map<number, { cpuSeconds: number; atMs: number }>();
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Percent of one core used by `pid` since the previous sample of it. */
  sample(pid: number, usage: ProcessUsage): number {
    const atMs = this.#now();
    const last = this.#last.get(pid);
    this.#last.set(pid, { cpuSeconds: usage.cpuSeconds, atMs });
    if (last === undefined || atMs <= last.atMs) return 0;
    const percent = ((usage.cpuSeconds - last.cpuSeconds) * 1000 * 100) / (atMs - last.atMs);
    return Math.max(0, Math.round(percent * 10) / 10);
  }

  /** Forgets every pid not in `alive` (processes that are gone). */
  retain(alive: ReadonlySet<number>): void {
    for (const pid of this.#last.keys()) if (!alive.has(pid)) this.#last.delete(pid);
  }
}
