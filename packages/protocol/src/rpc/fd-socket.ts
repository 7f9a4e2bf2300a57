import type * as NodeFs from "node:fs";
import type { FileSink } from "bun";
import { RialtoError, toRialtoError } from "../errors.ts";
import type { SocketTransport, StreamSocket } from "./socket-transport.ts";

/**
 * A {@link StreamSocket} over a stream-socket fd through Bun's file I/O: read with
 * `Bun.file(fd).stream()`, written straight to the fd with what it does not take left to a
 * `FileSink`; the stream and the sink poll the fd themselves.
 * Why not a Bun socket: while a process has any connected Bun socket, Bun's runtime wakes it
 * every second (its HTTP `Date` header timer runs whenever a socket is linked to the event
 * loop, and uSockets' timeout sweep every 4 s), so an idle process whose connections are Bun
 * sockets never sleeps longer than a second. Over this socket it wakes only when bytes arrive.
 * Owns the fd.
 */
export class FdSocket implements StreamSocket {
  readonly fd: number;
  readonly #owner: SocketTransport;
  readonly #writer: FileSink;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  /**
   * Bytes the sink holds: what the fd did not take of the last write (the sink does not say how
   * much of it went out since, so all of it counts until it says it flushed); later writes wait
   * in the transport's queue meanwhile.
   */
  #held = 0;
  #paused = false;
  #resumed: (() => void) | undefined;
  #closed = false;

  constructor(fd: number, owner: SocketTransport) {
    this.fd = fd;
    this.#owner = owner;
    this.#writer = Bun.file(fd).writer();
    // bun-types' reader type (with Bun's readMany) differs from the DOM one; the calls are the same.
    this.#reader = Bun.file(fd)
      .stream()
      .getReader() as unknown as ReadableStreamDefaultReader<Uint8Array>;
    void this.#read();
  }

  get heldBytes(): number {
    return this.#held;
  }

  write(bytes: Uint8Array): number {
    if (this.#closed || this.#held > 0) return 0;
    // Straight to the fd first: the sink made it non-blocking, and it would also have polled the
    // fd for writability before writing and woken the event loop once more for it.
    let sent = 0;
    try {
      sent = fs().writeSync(this.fd, bytes);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") {
        this.#lost("write", error);
        return 0;
      }
    }
    if (sent === bytes.byteLength) return sent;
    // The rest through the sink, which waits for the fd to take it. Until the sink says it
    // flushed everything, later writes wait (the transport queues them), so nothing overtakes.
    const rest = bytes.subarray(sent);
    try {
      const written = this.#writer.write(rest);
      const flushed = this.#writer.flush();
      if (typeof written === "number" && typeof flushed === "number") return bytes.byteLength;
      this.#held = rest.byteLength;
      Promise.all([written, flushed]).then(
        () => this.#settle(),
        (error: unknown) => this.#lost("write", error),
      );
    } catch (error) {
      this.#lost("write", error);
      return 0;
    }
    return bytes.byteLength;
  }

  /** Waits until the sink handed everything to the OS, then tells the transport it may write. */
  #settle(): void {
    if (this.#closed) return;
    let flushed: number | Promise<number>;
    try {
      flushed = this.#writer.flush();
    } catch (error) {
      this.#lost("write", error);
      return;
    }
    if (typeof flushed !== "number") {
      flushed.then(
        () => this.#settle(),
        (error: unknown) => this.#lost("write", error),
      );
      return;
    }
    this.#held = 0;
    this.#owner.flush();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#resumed?.();
    this.#resumed = undefined;
  }

  end(): void {
    this.#close(false);
  }

  terminate(): void {
    this.#close(true);
  }

  #close(now: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#resumed?.();
    try {
      // What the sink still holds goes out if the OS takes it now (a notice sent before closing).
      const ended = this.#writer.end();
      if (typeof ended !== "number") ended.catch(() => {});
    } catch {
      // The peer is gone already.
    }
    this.#reader.cancel().catch(() => {});
    // Bun reads and writes through duplicates of the fd: closing ours as well lets the peer see
    // the end as soon as theirs are closed. A peer that stopped reading would keep the sink's
    // duplicate open on its unsent bytes, so a hard close shuts the socket itself down.
    if (now) shutdownSocket(this.fd);
    try {
      fs().closeSync(this.fd);
    } catch {
      // Already closed.
    }
  }

  async #read(): Promise<void> {
    try {
      for (;;) {
        if (this.#paused) await new Promise<void>((resolve) => (this.#resumed = resolve));
        if (this.#closed) return;
        const { done, value } = await this.#reader.read();
        if (this.#closed) return;
        if (done) break;
        this.#owner.received(value);
      }
      this.#close(false);
      this.#owner.ended();
    } catch (error) {
      this.#lost("read", error);
    }
  }

  #lost(what: string, error: unknown): void {
    if (this.#closed) return;
    this.#close(true);
    this.#owner.ended(
      new RialtoError(
        "CONNECTION_LOST",
        `fd ${this.fd} ${what} failed: ${toRialtoError(error).message}`,
        { cause: error },
      ),
    );
  }
}

/** node:fs, loaded on first use. */
const fs = (): typeof NodeFs => require("node:fs");

/** shutdown(2) with SHUT_RDWR; libc is loaded through bun:ffi on the first hard close only. */
function shutdownSocket(fd: number): void {
  try {
    shutdown ??= (require("bun:ffi") as typeof import("bun:ffi")).dlopen("libc.so.6", {
      shutdown: { args: ["i32", "i32"], returns: "i32" },
    }).symbols.shutdown as (fd: number, how: number) => number;
    shutdown(fd, SHUT_RDWR);
  } catch {
    // Without libc the close below still ends the connection once Bun lets go of its copies.
  }
}

const SHUT_RDWR = 2;
let shutdown: ((fd: number, how: number) => number) | undefined;
