import { FdChannel } from "@rialto/shm";

/** What the manager tells the watch's thread. */
export type ParkedWatchCommand =
  | { kind: "start"; wakeFd: number }
  | { kind: "watch"; fds: readonly number[] }
  | { kind: "stop" };

/** What the watch's thread reports. */
export type ParkedWatchReport =
  | { kind: "pending"; fds: readonly number[] }
  | { kind: "failed"; message: string };

/** Options of {@link ParkedSocketWatch}. */
export interface ParkedSocketWatchOptions {
  /** Called with the watched sockets a connection waits on (each once per {@link ParkedSocketWatch.watch}). */
  onPending(fds: readonly number[]): void;
  /** Called once if the watch's thread fails; it reports nothing after that. */
  onFailed(message: string): void;
}

/**
 * Notices a client connecting to a parked app (its listening socket has a connection in its
 * backlog, which nobody accepts until the app's session server runs) without waking the
 * manager's event loop: a worker thread waits in poll(2) on the parked apps' sockets and a
 * wake-up channel, and tells the manager when one is readable. An idle manager with parked apps
 * then has no timer; a timer polling every 250 ms cost it 0.5 % of a core and the client up to
 * 250 ms (BENCHMARKS.md, device-scale parking).
 */
export class ParkedSocketWatch {
  readonly #worker: Worker;
  readonly #wake: [FdChannel, FdChannel];
  #closed = false;

  constructor(options: ParkedSocketWatchOptions) {
    this.#wake = FdChannel.pair();
    this.#worker = new Worker(new URL("./parked-socket-watch-worker.ts", import.meta.url));
    this.#worker.onmessage = (event: MessageEvent<ParkedWatchReport>) => {
      if (this.#closed) return;
      const report = event.data;
      if (report.kind === "pending") options.onPending(report.fds);
      else options.onFailed(report.message);
    };
    this.#worker.onerror = (event) => {
      if (!this.#closed) options.onFailed(event.message);
    };
    // An idle manager must not be kept alive by its watch.
    this.#worker.unref();
    this.#send({ kind: "start", wakeFd: this.#wake[1].fd });
  }

  /** Waits on exactly `fds` from now on (the parked apps' sockets). */
  watch(fds: readonly number[]): void {
    this.#send({ kind: "watch", fds: [...fds] });
  }

  /** Stops the thread, then closes the wake-up channel. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#send({ kind: "stop" });
    this.#closed = true;
    // The thread's end is closed only once the thread is gone: closed while it might still
    // read it, its fd number could already name another socket of the manager's.
    this.#worker.addEventListener("close", () => this.#wake[1].close(), { once: true });
    this.#worker.terminate();
    this.#wake[0].close();
  }

  #send(command: ParkedWatchCommand): void {
    if (this.#closed) return;
    this.#worker.postMessage(command);
    // The thread may be waiting in poll(2): a byte on the channel makes it take the command.
    this.#wake[0].sendFds([], WAKE_BYTE);
  }
}

const WAKE_BYTE = new Uint8Array([1]);
