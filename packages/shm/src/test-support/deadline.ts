/**
 * Resolves with `promise`, or rejects naming `what` when `ms` milliseconds pass first. Tests
 * wait for events with this instead of sleeping a fixed time (the same helper as the session
 * server's and `tests/support/wait.ts`'s `within`; @rialto/shm depends on nothing, so its error
 * is a plain Error).
 */
export async function within<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
