import type * as NodeFs from "node:fs";
import type { Stats } from "node:fs";
import { ShmError } from "../errors.ts";
import { libc, SOCK_SEQPACKET } from "../libc.ts";
import { FdChannel } from "./fd-channel.ts";

/** node:fs, loaded on first use: it costs every session server several ms of start-up. */
const fs = (): typeof NodeFs => require("node:fs");

/** Options of {@link FdListener.listen}. */
export interface FdListenerOptions {
  /** Permission bits of the socket file, applied before anyone can connect; default 0o660. */
  readonly mode?: number;
  /** listen(2) backlog; default 128. */
  readonly backlog?: number;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return fs().lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** True when a process accepts connections at `path` (a refused connect means stale). */
function someoneListens(path: string): boolean {
  const probe = libc.socket(SOCK_SEQPACKET);
  try {
    libc.connect(probe, path);
    return true;
  } catch (error) {
    if (error instanceof ShmError && (error.errno === "ECONNREFUSED" || error.errno === "ENOENT")) {
      return false;
    }
    // EAGAIN (full backlog) or EPROTOTYPE (a listener of another type): someone is there.
    if (error instanceof ShmError && error.code === "ERRNO") return true;
    throw error;
  } finally {
    libc.close(probe);
  }
}

/**
 * Removes a socket file nobody listens on; throws `ADDRESS_IN_USE` for a live listener or a
 * file that is not a socket.
 */
export function clearStalePath(path: string): void {
  const stats = lstatOrUndefined(path);
  if (stats === undefined) return;
  if (!stats.isSocket()) {
    throw new ShmError("ADDRESS_IN_USE", `"${path}" exists and is not a socket; not replacing it`);
  }
  if (someoneListens(path)) {
    throw new ShmError("ADDRESS_IN_USE", `"${path}" has a live listener; not replacing it`);
  }
  try {
    fs().unlinkSync(path);
  } catch (error) {
    // Someone else removed the stale file first; the path is free either way.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/**
 * A SOCK_SEQPACKET listening socket bound to a filesystem path, for fd side channels
 * between unrelated processes. Never wrapped by Bun: poll it with
 * {@link FdListener.acceptPending} when a peer announces itself on the data socket.
 */
export class FdListener implements Disposable {
  /** The socket path. */
  readonly path: string;
  /** The listening socket fd; owned by this listener. */
  readonly fd: number;
  readonly #inode: number;
  #closed = false;

  private constructor(path: string, fd: number, inode: number) {
    this.path = path;
    this.fd = fd;
    this.#inode = inode;
  }

  /**
   * Listens at `path`. A stale socket file (nobody accepting) is replaced; a live listener
   * or a non-socket file makes this fail with `ADDRESS_IN_USE`. The mode is applied
   * between bind and listen, so no connection is possible with looser permissions.
   */
  static listen(path: string, options: FdListenerOptions = {}): FdListener {
    const mode = options.mode ?? 0o660;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
      throw new ShmError("INVALID_ARGUMENT", `socket mode ${mode.toString(8)} is not 0 to 0o777`);
    }
    clearStalePath(path);
    const fd = libc.socket(SOCK_SEQPACKET);
    let bound = false;
    try {
      libc.bind(fd, path);
      bound = true;
      fs().chmodSync(path, mode);
      const inode = fs().lstatSync(path).ino;
      libc.listen(fd, options.backlog ?? 128);
      return new FdListener(path, fd, inode);
    } catch (error) {
      libc.close(fd);
      if (bound) fs().unlinkSync(path);
      if (error instanceof ShmError && error.errno === "EADDRINUSE") {
        throw new ShmError("ADDRESS_IN_USE", `"${path}" was bound by another process meanwhile`);
      }
      throw error;
    }
  }

  /**
   * Adopts a listening SOCK_SEQPACKET socket bound by another process (e.g. inherited from, or
   * passed by, the server manager that owns `path`). Takes ownership of `fd`; `close()` closes
   * it but leaves the socket file to its owner. Refuses other socket types with `INVALID_ARGUMENT`.
   */
  static adopt(fd: number, path: string): FdListener {
    const type = libc.socketType(fd);
    if (type !== SOCK_SEQPACKET) {
      throw new ShmError("INVALID_ARGUMENT", `fd ${fd} is socket type ${type}, not SOCK_SEQPACKET`);
    }
    return new FdListener(path, fd, -1);
  }

  /** True once `close()` has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Accepts every pending connection (non-blocking, until EAGAIN). */
  acceptPending(): FdChannel[] {
    if (this.#closed) throw new ShmError("CLOSED", `fd listener "${this.path}" is closed`);
    const channels: FdChannel[] = [];
    for (let fd = libc.accept(this.fd); fd !== undefined; fd = libc.accept(this.fd)) {
      channels.push(FdChannel.fromFd(fd));
    }
    return channels;
  }

  /**
   * Closes the socket and unlinks the path if it is still this listener's socket (an adopted
   * listener leaves the path to its owner).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    libc.close(this.fd);
    if (lstatOrUndefined(this.path)?.ino === this.#inode) fs().unlinkSync(this.path);
  }

  /** Same as {@link FdListener.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
