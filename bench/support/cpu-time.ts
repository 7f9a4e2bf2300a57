import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU time a process has run so far, in ns, summed over its threads (Linux
 * `/proc/<pid>/task/<tid>/schedstat`, first field; nanosecond resolution, unlike `utime`).
 * Unlike wall-clock latency it does not include time spent waiting for a CPU, so it shows
 * what a code path costs even on a loaded machine.
 */
export function cpuNs(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return total;
}

/** CPU time of a set of processes, added up over the measured blocks. */
export class CpuAccount {
  readonly #pids: readonly number[];
  readonly #ns: number[];
  #operations = 0;

  /** Accounts the processes `pids` (e.g. this one and its peer). */
  constructor(pids: readonly number[]) {
    this.#pids = pids;
    this.#ns = pids.map(() => 0);
  }

  /** Runs `block` (which performs `operations` operations), adding each process's CPU time. */
  async charge<T>(operations: number, block: () => Promise<T>): Promise<T> {
    const before = this.#pids.map(cpuNs);
    const result = await block();
    this.#pids.forEach((pid, i) => {
      this.#ns[i] = (this.#ns[i] ?? 0) + cpuNs(pid) - (before[i] ?? 0);
    });
    this.#operations += operations;
    return result;
  }

  /** CPU µs per operation of each process, in the order of `pids`. */
  perOperationUs(): number[] {
    return this.#ns.map((ns) => ns / 1000 / Math.max(1, this.#operations));
  }
}
