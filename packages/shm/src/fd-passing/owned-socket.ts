import type * as NodeFs from "node:fs";
import { ShmError } from "../errors.ts";
import { libc, SOCK_SEQPACKET, SOCK_STREAM } from "../libc.ts";
import { clearStalePath } from "./fd-listener.ts";

/** node:fs, loaded on first use: it costs every session server several ms of start-up. */
const fs = (): typeof NodeFs => require("node:fs");

/** Options of {@link OwnedSocket.bind}. */
export interface OwnedSocketOptions {
  /** `"stream"` (an RPC socket Bun can serve with `Bun.listen({fd})`) or `"seqpacket"` (an fd side channel). */
  readonly type: "stream" | "seqpacket";
  /** Permission bits of the socket file, applied between bind and listen; default 0o660. */
  readonly mode?: number;
  /** listen(2) backlog: connections the kernel queues while nobody accepts; default 128. */
  readonly backlog?: number;
  /**
   * Take `<path>.lock` (flock, exclusive, non-blocking) before touching the path, as Rialto's
   * manager does: a second owner fails with `ADDRESS_IN_USE` instead of replacing the socket.
   * Default false.
   */
  readonly lock?: boolean;
}

/**
 * A listening Unix socket bound to a filesystem path by the process that keeps it: a server
 * manager creates an app's client socket once and hands the fd to each session server it starts
 * for the app, so the path keeps accepting (connections queue in the backlog) while a session
 * server restarts. Never wrapped by Bun in the owning process. `close()` closes the fd, removes
 * the socket file (if it is still this socket's) and releases the lock.
 */
export class OwnedSocket implements Disposable {
  /** The socket path. */
  readonly path: string;
  /** The listening socket fd (close-on-exec, non-blocking); owned by this object. */
  readonly fd: number;
  readonly #inode: number;
  readonly #lock: { path: string; fd: number } | undefined;
  #closed = false;

  private constructor(
    path: string,
    fd: number,
    inode: number,
    lock: { path: string; fd: number } | undefined,
  ) {
    this.path = path;
    this.fd = fd;
    this.#inode = inode;
    this.#lock = lock;
  }

  /**
   * Creates, binds (mode applied before listen) and listens at `path`. A stale socket file is
   * replaced; a live listener, a non-socket file or (with `lock`) a held lock fail with
   * `ADDRESS_IN_USE`; other failures are `ERRNO`. A failure leaves nothing behind.
   */
  static bind(path: string, options: OwnedSocketOptions): OwnedSocket {
    const mode = options.mode ?? 0o660;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
      throw new ShmError("INVALID_ARGUMENT", `socket mode ${mode.toString(8)} is not 0 to 0o777`);
    }
    const lock = options.lock ? takeLock(`${path}.lock`) : undefined;
    let fd = -1;
    let bound = false;
    try {
      clearStalePath(path);
      fd = libc.socket(options.type === "stream" ? SOCK_STREAM : SOCK_SEQPACKET);
      libc.bind(fd, path);
      bound = true;
      fs().chmodSync(path, mode);
      const inode = fs().lstatSync(path).ino;
      libc.listen(fd, options.backlog ?? 128);
      return new OwnedSocket(path, fd, inode, lock);
    } catch (error) {
      if (fd >= 0) libc.close(fd);
      if (bound) fs().unlinkSync(path);
      if (lock !== undefined) releaseLock(lock);
      if (error instanceof ShmError && error.errno === "EADDRINUSE") {
        throw new ShmError("ADDRESS_IN_USE", `"${path}" was bound by another process meanwhile`);
      }
      throw error;
    }
  }

  /** Whether a connection waits in the backlog (nobody accepts on this socket meanwhile). */
  get hasPendingConnection(): boolean {
    return OwnedSocket.withPendingConnections([this]).size > 0;
  }

  /**
   * The sockets of `sockets` that have a connection waiting in their backlog, found with one
   * poll(2) for all of them (closed ones are left out).
   */
  static withPendingConnections(sockets: readonly OwnedSocket[]): Set<OwnedSocket> {
    const open = sockets.filter((socket) => !socket.#closed);
    const readable = libc.readable(open.map((socket) => socket.fd));
    return new Set(open.filter((_, i) => readable[i]));
  }

  /** True once `close()` has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the socket, removes its file if it is still this socket's, releases the lock. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    libc.close(this.fd);
    try {
      if (fs().lstatSync(this.path).ino === this.#inode) fs().unlinkSync(this.path);
    } catch {
      // Already gone.
    }
    if (this.#lock !== undefined) releaseLock(this.#lock);
  }

  /** Same as {@link OwnedSocket.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function takeLock(path: string): { path: string; fd: number } {
  const fd = fs().openSync(path, "a", 0o600);
  try {
    if (!libc.tryLockExclusive(fd)) {
      throw new ShmError("ADDRESS_IN_USE", `"${path}" is locked by another process`);
    }
  } catch (error) {
    fs().closeSync(fd);
    throw error;
  }
  return { path, fd };
}

function releaseLock(lock: { path: string; fd: number }): void {
  try {
    fs().unlinkSync(lock.path);
  } catch {
    // Already gone.
  }
  fs().closeSync(lock.fd);
}
