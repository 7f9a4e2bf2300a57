import { RialtoError, withDeadline } from "@rialto/protocol";

/** Default deadline of a test wait, ms: generous for a 2-core machine shared with other test runs. */
export const WAIT_MS = 10_000;

/**
 * Polls `check` every 10 ms until it returns a value other than undefined/false and returns
 * that value, or fails naming `what` after `ms` (default {@link WAIT_MS}).
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms = WAIT_MS,
): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** Polls `check` until it is true, or fails naming `what` after `ms` (default {@link WAIT_MS}). */
export async function eventually(check: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  await waitFor(what, check, ms);
}

/** Settles like `promise`, or rejects with a TIMEOUT RialtoError naming `what` after `ms`. */
export function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  return withDeadline(
    promise,
    ms,
    () => new RialtoError("TIMEOUT", `${what}: not within ${ms} ms`),
  );
}
