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

/** `value` rounded to two decimals, for the JSON line. */
export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
