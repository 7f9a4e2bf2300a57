import type { RialtoError } from "../errors.ts";

/**
 * Settles like `work`, or rejects with `timeout()` after `ms` milliseconds, whichever comes
 * first. `work` keeps running: a caller that must know how it ends keeps its own handle on it.
 */
export function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  timeout: () => RialtoError,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeout()), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
