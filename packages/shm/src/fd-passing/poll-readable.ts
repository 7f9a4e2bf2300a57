import { libc } from "../libc.ts";

/**
 * Which of `fds` are readable (for a listening socket: a connection waits in its backlog), with
 * one poll(2): waiting up to `timeoutMs` for one to be (0: not at all; -1: until one is, which
 * blocks the calling thread, so only a worker thread should wait).
 */
export function pollReadable(fds: readonly number[], timeoutMs: number): boolean[] {
  return libc.readable(fds, timeoutMs);
}
