import type * as NodeFs from "node:fs";
import type { Socket, SocketHandler, TCPSocketListener, UnixSocketListener } from "bun";
import { RialtoError, toRialtoError } from "../errors.ts";
import { FdSocket } from "./fd-socket.ts";
import type { InputScheduler } from "./input-scheduler.ts";
import type { OutputBudget } from "./output-budget.ts";
import type { Transport, TransportSink } from "./transport.ts";

/** node:fs, loaded on first use: it costs every session server several ms of start-up. */
const fs = (): typeof NodeFs => require("node:fs");

/** Default cap on bytes queued for a peer that does not read: past it the peer is cut off. */
export const DEFAULT_MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

/** Input is handed to the sink in slices of this many bytes when fairness is on. */
const SLICE_BYTES = 2 * 1024;

/** Options shared by the socket transports. */
export interface SocketTransportOptions {
  /** Bytes that may wait for a slow reader before the connection is closed (default 32 MiB). */
  maxBufferedBytes?: number;
  /**
   * Stop reading from the peer while more than this many bytes wait for it to read (resumed
   * below half of it); default: never. A server sets it so that a peer that sends requests but
   * does not read the replies is held back by the kernel's socket buffers, not by our memory
   * or CPU. (Not for clients: two peers that both stop reading would wait for each other.)
   */
  pauseReadingAboveBytes?: number;
  /** A bound on the bytes queued by this and other connections together (see {@link OutputBudget}). */
  budget?: OutputBudget;
  /**
   * Fairness: once handling this peer's input has taken this many ms of CPU, stop reading from
   * it until the event loop has gone round once (default: never). A peer that sends faster than
   * we can handle then gets its turn like every other connection, instead of keeping the loop to
   * itself while the others' calls wait.
   */
  yieldAfterMs?: number;
  /**
   * Fairness across connections (with `yieldAfterMs`): once the listener's turn budget is spent,
   * each connection handles one slice per turn.
   */
  scheduler?: InputScheduler;
  /**
   * Cut off a peer that has taken none of the queued output for this long, ms (default: never):
   * a peer that stopped reading is not waited for for ever.
   */
  writeStallTimeoutMs?: number;
}

/**
 * The stream a {@link SocketTransport} runs over: a Bun socket, or an `FdSocket` (Bun's file I/O
 * on a socket fd). It reports back through the transport's `received`, `flush` (writable
 * again) and `ended` (gone).
 */
export interface StreamSocket {
  /** Writes what the OS takes now; returns the number of bytes taken (≤ 0: none). */
  write(bytes: Uint8Array): number;
  /** Stops delivering input until {@link resume}. */
  pause(): void;
  resume(): void;
  /** Closes after what was written goes out. */
  end(): void;
  /** Closes now, dropping what was not sent. */
  terminate(): void;
  /**
   * Bytes the socket itself holds that the OS has not taken yet (an `FdSocket`'s sink, which
   * takes a whole write when the OS cannot); counted as queued output. Absent: none.
   */
  readonly heldBytes?: number;
}

/**
 * A {@link Transport} over a {@link StreamSocket} (a Bun socket on a Unix stream socket or an
 * inherited fd, or Bun's file I/O on one). A write may take part of the bytes, so the rest waits
 * in a queue flushed when the socket is writable again; every limit of
 * {@link SocketTransportOptions} applies to either kind of socket.
 */
export class SocketTransport implements Transport {
  #socket: StreamSocket | undefined;
  #sink: TransportSink | undefined;
  #early: Uint8Array[] = [];
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  /** The socket's own {@link StreamSocket.heldBytes} as last seen (counted in the budget). */
  #heldBytes = 0;
  #closed = false;
  #closeCause: RialtoError | undefined;
  #maxBufferedBytes: number;
  readonly #pauseAbove: number;
  readonly #budget: OutputBudget | undefined;
  #readingPaused = false;
  readonly #yieldAfterMs: number | undefined;
  readonly #scheduler: InputScheduler | undefined;
  readonly #writeStallTimeoutMs: number | undefined;
  #stallTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the peer last took some of the queue (or the queue started), ms. */
  #lastProgress = 0;
  /** CPU time spent on this peer's input since it last yielded, ms. */
  #busyMs = 0;
  #yielding = false;
  /** Input received but not handled yet (fairness or backpressure made this peer wait). */
  #backlog: Uint8Array[] = [];
  /** Whether the socket is paused now (backpressure or yielding). */
  #socketPaused = false;
  /** Writes made while a received chunk is being handled; sent as one write once it is. */
  #batch: Uint8Array[] | undefined;

  constructor(options: SocketTransportOptions = {}) {
    this.#maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.#pauseAbove = options.pauseReadingAboveBytes ?? Number.POSITIVE_INFINITY;
    this.#budget = options.budget;
    this.#budget?.add(this);
    this.#yieldAfterMs = options.yieldAfterMs;
    this.#scheduler = options.scheduler;
    this.#writeStallTimeoutMs = options.writeStallTimeoutMs;
  }

  /** True while reading from the peer is paused because it does not read what we send. */
  get readingPaused(): boolean {
    return this.#readingPaused;
  }

  /** The OS file descriptor of the socket (for SO_PEERCRED checks and side channels). */
  get fd(): number {
    return (this.#socket as unknown as { fd?: number } | undefined)?.fd ?? -1;
  }

  get bufferedBytes(): number {
    return this.#queuedBytes + this.#heldBytes;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** @internal Called by the socket handlers once the socket exists. */
  attach(socket: StreamSocket): void {
    this.#socket = socket;
    if (this.#closed) socket.end();
  }

  start(sink: TransportSink): void {
    this.#sink = sink;
    for (const bytes of this.#early.splice(0)) sink.data(bytes);
    if (this.#closed) sink.close(this.#closeCause);
  }

  write(bytes: Uint8Array): boolean {
    if (this.#closed || this.#socket === undefined) return false;
    if (this.#batch !== undefined) {
      this.#batch.push(bytes);
      return true;
    }
    return this.#send(bytes);
  }

  #send(bytes: Uint8Array): boolean {
    const socket = this.#socket as StreamSocket;
    if (this.#queue.length === 0) {
      const written = socket.write(bytes);
      const held = socket.heldBytes ?? 0;
      if (held !== this.#heldBytes) this.#hold(held);
      if (written === bytes.byteLength) {
        if (held > 0) this.#checkBacklog();
        return true;
      }
      bytes = bytes.subarray(Math.max(written, 0));
    }
    if (this.#queue.length === 0 && this.#heldBytes === 0) this.#watchStall();
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.byteLength;
    this.#budget?.charge(bytes.byteLength);
    this.#checkBacklog();
    return true;
  }

  /** Records what the socket holds now (budget and stall deadline included). */
  #hold(held: number): void {
    const delta = held - this.#heldBytes;
    this.#heldBytes = held;
    if (delta < 0) this.#lastProgress = performance.now();
    else if (this.#queue.length === 0) this.#watchStall();
    this.#budget?.charge(delta);
  }

  /** Closes the connection or stops reading from the peer as its unsent output says. */
  #checkBacklog(): void {
    if (this.#closed) return; // The budget cut this connection off.
    const buffered = this.bufferedBytes;
    if (buffered > this.#maxBufferedBytes) {
      this.close(peerNotReading(buffered, this.#maxBufferedBytes));
      return;
    }
    if (buffered > this.#pauseAbove && !this.#readingPaused) {
      this.#readingPaused = true;
      this.#updateReading();
    }
  }

  /**
   * Starts (or keeps) the write-stall deadline: a queue that makes no progress for
   * `writeStallTimeoutMs` means a peer that stopped reading, and it is cut off.
   */
  #watchStall(): void {
    this.#lastProgress = performance.now();
    const timeoutMs = this.#writeStallTimeoutMs;
    if (timeoutMs === undefined || this.#stallTimer !== undefined) return;
    const check = () => {
      this.#stallTimer = undefined;
      if (this.#closed || this.bufferedBytes === 0) return;
      const idle = performance.now() - this.#lastProgress;
      if (idle < timeoutMs) {
        this.#stallTimer = setTimeout(check, timeoutMs - idle);
        this.#stallTimer.unref?.();
        return;
      }
      this.close(
        new RialtoError(
          "RESOURCE_EXHAUSTED",
          `peer is not reading: ${this.bufferedBytes} bytes queued and none taken for ${Math.round(idle)} ms`,
        ),
      );
    };
    this.#stallTimer = setTimeout(check, timeoutMs);
    this.#stallTimer.unref?.();
  }

  /** Forgets the queue (closing): it leaves the budget with it. */
  #dropQueue(): void {
    this.#backlog = [];
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    this.#budget?.remove(this, this.#queuedBytes + this.#heldBytes);
    this.#heldBytes = 0;
    this.#queue = [];
    this.#queuedBytes = 0;
  }

  close(cause?: RialtoError): void {
    if (this.#closed) return;
    // What is batched or queued still goes out if the OS takes it now (e.g. a notice sent
    // before closing).
    this.#sendBatch();
    this.flush();
    this.#closed = true;
    this.#closeCause = cause;
    const stalled = this.bufferedBytes > 0;
    this.#dropQueue();
    // A peer that left output unread is dropped at once: a graceful end() of such a socket
    // took ~50 ms of the event loop each (measured with 8 peers that never read).
    if (stalled) this.#socket?.terminate();
    else this.#socket?.end();
    this.#sink?.close(cause);
  }

  /** @internal */
  received(bytes: Uint8Array): void {
    if (this.#closed) return;
    if (this.#sink === undefined) {
      this.#early.push(bytes.slice());
      return;
    }
    if (this.#yieldAfterMs !== undefined) {
      // Input that arrives while this peer waits its turn (or for its replies to be read)
      // queues behind what is already waiting.
      if (this.#backlog.length > 0 || this.#yielding || this.#readingPaused) {
        this.#backlog.push(bytes.slice());
        return;
      }
      this.#consume(bytes, this.#yieldAfterMs);
      return;
    }
    // The answers to a burst of requests that arrived together leave in one write, as a raw
    // echo answers a read with one write: one syscall per chunk instead of one per answer.
    this.#batch = [];
    try {
      this.#sink.data(bytes);
    } finally {
      this.#sendBatch();
    }
  }

  /**
   * Hands `bytes` to the sink in slices until this peer's share of the event loop is spent (or
   * its replies pile up), keeps the rest for its next turn, and yields the loop.
   */
  #consume(bytes: Uint8Array, shareMs: number): void {
    const sink = this.#sink as TransportSink;
    const started = performance.now();
    let offset = 0;
    this.#batch = [];
    try {
      // At least one slice per turn, so that every connection makes progress.
      while (offset < bytes.byteLength && !this.#closed) {
        const end = Math.min(offset + SLICE_BYTES, bytes.byteLength);
        sink.data(bytes.subarray(offset, end));
        offset = end;
        if (this.#readingPaused || this.#scheduler?.exhausted === true) break;
        if (this.#busyMs + performance.now() - started >= shareMs) break;
      }
    } finally {
      this.#sendBatch();
    }
    const spent = performance.now() - started;
    this.#busyMs += spent;
    this.#scheduler?.charge(spent);
    if (this.#closed) return;
    const rest = offset < bytes.byteLength;
    if (rest) this.#backlog.unshift(bytes.slice(offset));
    if (rest || this.#busyMs >= shareMs || this.#scheduler?.exhausted === true) this.#yieldTurn();
  }

  /** Stops reading this peer until the event loop has gone round; then carries on with its backlog. */
  #yieldTurn(): void {
    if (this.#yielding || this.#closed) return;
    this.#yielding = true;
    this.#updateReading();
    setImmediate(() => {
      this.#yielding = false;
      this.#busyMs = 0;
      this.#drainBacklog();
      this.#updateReading();
    });
  }

  #drainBacklog(): void {
    const shareMs = this.#yieldAfterMs as number;
    while (this.#backlog.length > 0 && !this.#yielding && !this.#readingPaused && !this.#closed) {
      this.#consume(this.#backlog.shift() as Uint8Array, shareMs);
    }
  }

  /** Pauses or resumes reading from the socket as backpressure and fairness say. */
  #updateReading(): void {
    const socket = this.#socket;
    if (socket === undefined || this.#closed) return;
    const pause = this.#readingPaused || this.#yielding;
    if (pause === this.#socketPaused) return;
    this.#socketPaused = pause;
    if (pause) socket.pause();
    else socket.resume();
  }

  #sendBatch(): void {
    const batch = this.#batch;
    this.#batch = undefined;
    if (batch === undefined || batch.length === 0 || this.#closed || this.#socket === undefined) {
      return;
    }
    this.#send(batch.length === 1 ? (batch[0] as Uint8Array) : Buffer.concat(batch));
  }

  /** @internal */
  flush(): void {
    const socket = this.#socket;
    if (socket === undefined || this.#closed) return;
    const held = socket.heldBytes ?? 0;
    if (held !== this.#heldBytes) this.#hold(held);
    while (this.#queue.length > 0) {
      // Coalesce small queued writes into one syscall.
      const head =
        this.#queue.length > 1
          ? Buffer.concat(this.#queue.splice(0))
          : (this.#queue.shift() as Uint8Array);
      const written = Math.max(socket.write(head), 0);
      this.#queuedBytes -= written;
      this.#budget?.charge(-written);
      if (written > 0) this.#lastProgress = performance.now();
      if (written < head.byteLength) {
        this.#queue.unshift(head.subarray(written));
        break;
      }
    }
    if (this.#readingPaused && this.bufferedBytes <= this.#pauseAbove / 2) {
      this.#readingPaused = false;
      if (this.#backlog.length > 0) this.#yieldTurn();
      else this.#updateReading();
    }
  }

  /** @internal The socket went away (peer closed, error, or our own end()). */
  ended(cause?: RialtoError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeCause = cause;
    this.#dropQueue();
    this.#sink?.close(cause);
  }
}

const handlers: SocketHandler<SocketTransport> = {
  data(socket, data) {
    socket.data.received(data);
  },
  drain(socket) {
    socket.data.flush();
  },
  close(socket, error) {
    socket.data.ended(
      error === undefined
        ? undefined
        : new RialtoError("CONNECTION_LOST", `socket closed: ${error.message}`),
    );
  },
  error(socket, error) {
    socket.data.ended(new RialtoError("CONNECTION_LOST", `socket error: ${error.message}`));
  },
};

/**
 * A transport over Bun's file I/O on `fd`, a connected stream socket (not checked; see
 * `openFdStream`, which checks). Takes ownership of the fd.
 */
export function fdStreamTransport(
  fd: number,
  options: SocketTransportOptions = {},
): SocketTransport {
  const transport = new SocketTransport(options);
  transport.attach(new FdSocket(fd, transport));
  return transport;
}

/** Connects to a Unix stream socket at `path`. Rejects with CONNECTION_LOST when nobody listens. */
export async function connectUnix(
  path: string,
  options: SocketTransportOptions = {},
): Promise<SocketTransport> {
  const transport = new SocketTransport(options);
  try {
    const socket = await Bun.connect<SocketTransport>({
      unix: path,
      data: transport,
      socket: handlers,
    });
    transport.attach(socket);
  } catch (error) {
    throw new RialtoError(
      "CONNECTION_LOST",
      `cannot connect to ${path}: ${toRialtoError(error).message}`,
      {
        cause: error,
      },
    );
  }
  return transport;
}

/** Wraps an inherited stream-socket fd (e.g. the control channel on fd 3); takes ownership of it. */
export async function connectFd(
  fd: number,
  options: SocketTransportOptions = {},
): Promise<SocketTransport> {
  const transport = new SocketTransport(options);
  // Bun accepts `fd` at run time; bun-types lacks the overload.
  const connect = Bun.connect as unknown as (options: {
    fd: number;
    data: SocketTransport;
    socket: SocketHandler<SocketTransport>;
  }) => Promise<Socket<SocketTransport>>;
  try {
    transport.attach(await connect({ fd, data: transport, socket: handlers }));
  } catch (error) {
    throw new RialtoError(
      "CONNECTION_LOST",
      `cannot use fd ${fd} as a socket: ${toRialtoError(error).message}`,
      {
        cause: error,
      },
    );
  }
  return transport;
}

/** A listening Unix socket; see {@link listenUnix}. */
export interface UnixListener extends AsyncDisposable {
  readonly path: string;
  /** Stops accepting, closes the socket file. Open connections stay open. */
  close(): void;
}

/** Options of {@link listenUnix}. */
export interface ListenUnixOptions extends SocketTransportOptions {
  /** File mode of the socket (default 0o660). */
  mode?: number;
  /**
   * A stream socket already bound at `path` and listening, owned by another process (the
   * server manager): served as is; `close()` closes this process's fd and leaves the file.
   */
  fd?: number;
}

/**
 * The error a transport closes with when its peer stopped reading and `queued` bytes passed
 * `limit` (shared by the socket and fd-stream transports).
 */
export function peerNotReading(queued: number, limit: number): RialtoError {
  return new RialtoError(
    "RESOURCE_EXHAUSTED",
    `peer is not reading: ${queued} bytes queued (limit ${limit})`,
  );
}

/**
 * Listens on a Unix stream socket at `path` and hands every accepted connection to `onConnection`.
 * A stale socket file is replaced, but only when nobody is listening on it (PERMISSION_DENIED
 * otherwise: a live server's socket is never stolen).
 */
export async function listenUnix(
  path: string,
  onConnection: (transport: SocketTransport) => void,
  options: ListenUnixOptions = {},
): Promise<UnixListener> {
  if (options.fd !== undefined) return listenOnFd(path, options.fd, onConnection, options);
  if (fs().existsSync(path)) {
    if (await isListening(path)) {
      throw new RialtoError("PERMISSION_DENIED", `socket ${path} is in use by a running server`);
    }
    fs().unlinkSync(path);
  }
  let listener: UnixSocketListener<SocketTransport> | TCPSocketListener<SocketTransport>;
  try {
    listener = Bun.listen<SocketTransport>({
      unix: path,
      socket: socketHandlers(onConnection, options),
    });
    fs().chmodSync(path, options.mode ?? 0o660);
  } catch (error) {
    throw new RialtoError(
      "PERMISSION_DENIED",
      `cannot listen on ${path}: ${toRialtoError(error).message}`,
      {
        cause: error,
      },
    );
  }
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    listener.stop(false);
    try {
      fs().unlinkSync(path);
    } catch {
      // Already gone: nothing to clean up.
    }
  };
  return { path, close, [Symbol.asyncDispose]: async () => close() };
}

function socketHandlers(
  onConnection: (transport: SocketTransport) => void,
  options: ListenUnixOptions,
): SocketHandler<SocketTransport> {
  return {
    ...handlers,
    open(socket) {
      const transport = new SocketTransport(options);
      socket.data = transport;
      transport.attach(socket);
      onConnection(transport);
    },
  };
}

function listenOnFd(
  path: string,
  fd: number,
  onConnection: (transport: SocketTransport) => void,
  options: ListenUnixOptions,
): UnixListener {
  // Bun accepts `fd` at run time (a listening socket, e.g. inherited); bun-types lacks it.
  const listen = Bun.listen as unknown as (options: {
    fd: number;
    socket: SocketHandler<SocketTransport>;
  }) => { stop(closeActiveConnections?: boolean): void };
  let listener: { stop(closeActiveConnections?: boolean): void };
  try {
    listener = listen({ fd, socket: socketHandlers(onConnection, options) });
  } catch (error) {
    throw new RialtoError(
      "PERMISSION_DENIED",
      `cannot serve fd ${fd} (${path}): ${toRialtoError(error).message}`,
      { cause: error },
    );
  }
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    listener.stop(false);
  };
  return { path, close, [Symbol.asyncDispose]: async () => close() };
}

/**
 * True when something accepts connections on the Unix socket at `path`. Only "refused" or "no
 * such file" mean nobody is there: a busy server may reset a probe connection, and that is a
 * live server whose socket must not be taken.
 */
export async function isListening(path: string): Promise<boolean> {
  try {
    const socket = await Bun.connect({ unix: path, socket: { data() {} } });
    socket.end();
    return true;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return code !== "ECONNREFUSED" && code !== "ENOENT";
  }
}
