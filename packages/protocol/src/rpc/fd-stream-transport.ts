import type * as NodeFs from "node:fs";
import type { FileSink } from "bun";
import { RialtoError, toRialtoError } from "../errors.ts";
import { DEFAULT_MAX_BUFFERED_BYTES, peerNotReading } from "./socket-transport.ts";
import type { Transport, TransportSink } from "./transport.ts";

/** Options of {@link openFdStream}. */
export interface FdStreamOptions {
  /** Bytes that may wait for a slow reader before the stream is closed (default 32 MiB). */
  maxBufferedBytes?: number;
}

/**
 * A {@link Transport} over an inherited stream-socket fd, read with `Bun.file(fd).stream()` and
 * written through a `FileSink`: Bun's file I/O, which polls the fd itself, rather than a Bun
 * socket. Why: while a process has any connected Bun socket, Bun's runtime wakes it once a
 * second (its HTTP `Date` header timer runs whenever a socket is linked to the event loop), so a
 * session server whose only connection was its control channel woke every second with nothing
 * to do. Over this transport it wakes only when a message arrives.
 */
export class FdStreamTransport implements Transport {
  readonly #fd: number;
  readonly #writer: FileSink;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #maxBufferedBytes: number;
  #sink: TransportSink | undefined;
  #early: Uint8Array[] = [];
  #closed = false;
  #closeCause: RialtoError | undefined;
  /** Bytes the sink holds because the OS did not take them yet (0 when all went out). */
  #queuedBytes = 0;
  #draining = false;

  constructor(fd: number, options: FdStreamOptions = {}) {
    this.#fd = fd;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.#writer = Bun.file(fd).writer();
    // bun-types' reader type (with Bun's readMany) differs from the DOM one; the calls are the same.
    this.#reader = Bun.file(fd)
      .stream()
      .getReader() as unknown as ReadableStreamDefaultReader<Uint8Array>;
    void this.#read();
  }

  get bufferedBytes(): number {
    return this.#queuedBytes;
  }

  get closed(): boolean {
    return this.#closed;
  }

  start(sink: TransportSink): void {
    this.#sink = sink;
    for (const bytes of this.#early.splice(0)) sink.data(bytes);
    if (this.#closed) sink.close(this.#closeCause);
  }

  write(bytes: Uint8Array): boolean {
    if (this.#closed) return false;
    // A number: the OS took the bytes now. A promise: the sink holds them until the fd is
    // writable again (it polls for that itself).
    let written: number | Promise<number>;
    try {
      written = this.#writer.write(bytes);
    } catch (error) {
      this.#lost("write", error);
      return true;
    }
    if (typeof written === "number" && this.#queuedBytes === 0) return true;
    if (typeof written !== "number") written.catch((error) => this.#lost("write", error));
    this.#queuedBytes += bytes.byteLength;
    if (this.#queuedBytes > this.#maxBufferedBytes) {
      this.close(peerNotReading(this.#queuedBytes, this.#maxBufferedBytes));
      return true;
    }
    this.#drain();
    return true;
  }

  /** Waits until the sink handed everything to the OS, then counts nothing as queued. */
  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    const settle = (): void => {
      if (this.#closed) return;
      const flushed = this.#writer.flush();
      if (typeof flushed === "number") {
        this.#draining = false;
        this.#queuedBytes = 0;
        return;
      }
      flushed.then(settle, (error: unknown) => this.#lost("write", error));
    };
    settle();
  }

  close(cause?: RialtoError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeCause = cause;
    this.#early = [];
    this.#queuedBytes = 0;
    // What the sink still holds goes out if the OS takes it now (a notice sent before closing).
    try {
      const ended = this.#writer.end();
      if (typeof ended !== "number") ended.catch(() => {});
    } catch {
      // The peer is gone already.
    }
    this.#reader.cancel().catch(() => {});
    // Bun reads and writes through duplicates of the fd; closing ours too lets the peer see
    // the end at once.
    try {
      (require("node:fs") as typeof NodeFs).closeSync(this.#fd);
    } catch {
      // Already closed.
    }
    this.#sink?.close(cause);
  }

  async #read(): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await this.#reader.read();
        if (done || this.#closed) break;
        if (this.#sink === undefined) this.#early.push(value.slice());
        else this.#sink.data(value);
      }
      this.close();
    } catch (error) {
      this.#lost("read", error);
    }
  }

  #lost(what: string, error: unknown): void {
    if (this.#closed) return;
    this.close(
      new RialtoError(
        "CONNECTION_LOST",
        `fd ${this.#fd} ${what} failed: ${toRialtoError(error).message}`,
        {
          cause: error,
        },
      ),
    );
  }
}

/**
 * Wraps an inherited stream-socket fd (the control channel on fd 3) in a {@link FdStreamTransport};
 * takes ownership of the fd. Rejects with CONNECTION_LOST when `fd` is not an open socket.
 * Unlike `connectFd` it keeps no Bun socket open, so an idle process is not woken every second
 * by Bun's runtime. The check is Bun's own `stat`: node:fs would cost a session server's
 * start-up several ms more.
 */
export async function openFdStream(
  fd: number,
  options: FdStreamOptions = {},
): Promise<FdStreamTransport> {
  let problem: string | undefined;
  try {
    if (!(await Bun.file(fd).stat()).isSocket()) problem = "not a socket";
  } catch (error) {
    problem = toRialtoError(error).message;
  }
  if (problem !== undefined) {
    throw new RialtoError("CONNECTION_LOST", `cannot use fd ${fd} as a socket: ${problem}`);
  }
  return new FdStreamTransport(fd, options);
}
