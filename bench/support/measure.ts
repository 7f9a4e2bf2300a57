import { percentile } from "./child-process.ts";

/** Microseconds since `startNs` (a `Bun.nanoseconds()` reading). */
export function microsSince(startNs: number): number {
  return (Bun.nanoseconds() - startNs) / 1000;
}

/** Runs `count` round trips one after the other, pushing each one's time in µs to `into`. */
export async function sequential(
  roundTrip: () => Promise<unknown>,
  count: number,
  into: number[],
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const start = Bun.nanoseconds();
    await roundTrip();
    into.push(microsSince(start));
  }
}

/**
 * Runs `count` round trips with `width` of them in flight at all times (each finished one
 * starts the next); resolves with the round trips per second.
 */
export async function inFlight(
  roundTrip: () => Promise<unknown>,
  count: number,
  width: number,
): Promise<number> {
  let started = 0;
  const lane = async () => {
    while (started < count) {
      started++;
      await roundTrip();
    }
  };
  const start = Bun.nanoseconds();
  await Promise.all(Array.from({ length: Math.min(width, count) }, lane));
  return count / (microsSince(start) / 1e6);
}

/** `value` rounded to `decimals` decimals, for the JSON line. */
export function roundTo(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}

/** `value` rounded to two decimals, for the JSON line. */
export function round2(value: number): number {
  return roundTo(value, 2);
}

/** The best (largest) of `values`, e.g. the fastest round of a throughput measurement. */
export function best(values: readonly number[]): number {
  return Math.max(...values);
}

/** The median (50th percentile) of `values`. */
export function median(values: number[]): number {
  return percentile(values, 50);
}
