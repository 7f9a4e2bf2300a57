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

/** The CPU of the caller (this process) and of its peer in `placement`. */
const CPUS: Record<Placement, { caller: number; peer: number }> = {
  "same core": { caller: 0, peer: 0 },
  "cross core": { caller: 0, peer: 1 },
};

/** The argv prefix that starts the peer where `placement` puts it (util-linux `taskset`). */
export function peerCommand(placement: Placement): string[] {
  return ["taskset", "--cpu-list", String(CPUS[placement].peer)];
}

/**
 * Pins this process's JavaScript thread (the one that runs the round trips) where `placement`
 * puts the caller; disposing lets it run on every CPU again. Throws when the kernel refuses
 * (e.g. the CPU is not in this process's cpuset).
 */
export function pinCaller(placement: Placement): Disposable {
  const cpu = CPUS[placement].caller;
  const mask = new Uint8Array(CPU_SET_BYTES);
  mask[cpu >> 3] = 1 << (cpu & 7);
  if (libc.sched_setaffinity(0, CPU_SET_BYTES, mask) !== 0) {
    throw new Error(`sched_setaffinity to CPU ${cpu} failed`);
  }
  return {
    [Symbol.dispose]: () => {
      libc.sched_setaffinity(0, CPU_SET_BYTES, new Uint8Array(CPU_SET_BYTES).fill(0xff));
    },
  };
}
