import { readFileSync } from "node:fs";

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ: 100 on Linux x86-64 and arm64). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system) a process has used so far, in ns, including its threads that already
 * ended (`/proc/<pid>/stat` utime + stime, 10 ms resolution). `cpuNs` of cpu-time.ts is finer but
 * sums the live threads only: GStreamer's streaming and decoder threads may end mid-measurement.
 */
export function processCpuNs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e9) / TICKS_PER_SECOND;
}
