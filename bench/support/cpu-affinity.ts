import { dlopen } from "bun:ffi";
import { availableParallelism } from "node:os";

// On a small VM the scheduler decides whether two processes in a ping-pong share a core (each
// round trip is a context switch, ~15 µs here) or not (each one wakes an idle vCPU, ~100 µs
// here). Unpinned, the raw baseline and the engine can land differently, and a ratio between
// them then measures the placement, not the code. Benchmarks pin both sides instead.

const CPU_SET_BYTES = 128;

const { symbols: libc } = dlopen("libc.so.6", {
  sched_setaffinity: { args: ["i32", "u64", "ptr"], returns: "i32" },
});

/** How the two ends of a round trip are placed: one core for both, or one core each. */
export type Placement = "same core" | "cross core";

/** The placements this machine can offer (cross core needs two CPUs). */
export function placements(): Placement[] {
  return availableParallelism() >= 2 ? ["same core", "cross core"] : ["same core"];
}

/** The CPUs of the caller and of its peer in `placement`. */
export function cpusOf(placement: Placement): { caller: number; peer: number } {
  return placement === "same core" ? { caller: 0, peer: 0 } : { caller: 0, peer: 1 };
}

/**
 * Pins this process's JavaScript thread (the one that runs the round trips) to `cpu`.
 * Throws when the kernel refuses (e.g. the CPU is not in this process's cpuset).
 */
export function pinThisThread(cpu: number): void {
  const mask = new Uint8Array(CPU_SET_BYTES);
  mask[cpu >> 3] = 1 << (cpu & 7);
  if (libc.sched_setaffinity(0, CPU_SET_BYTES, mask) !== 0) {
    throw new Error(`sched_setaffinity to CPU ${cpu} failed`);
  }
}

/** Lets this process's JavaScript thread run on every CPU again. */
export function unpinThisThread(): void {
  const mask = new Uint8Array(CPU_SET_BYTES).fill(0xff);
  libc.sched_setaffinity(0, CPU_SET_BYTES, mask);
}

/** The argv prefix that starts a command pinned to `cpu` (util-linux `taskset`). */
export function pinnedCommand(cpu: number): string[] {
  return ["taskset", "--cpu-list", String(cpu)];
}
