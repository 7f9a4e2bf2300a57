import type { RialtoError } from "../errors.ts";
import type { Transport, TransportSink } from "./transport.ts";

/** Options of {@link createMemoryTransportPair}. */
export interface MemoryTransportOptions {
  /** Splits every write before delivery (tests use it to scramble chunk boundaries). */
  split?: (bytes: Uint8Array) => Uint8Array[];
}

class MemoryTransport implements Transport {
  peer: MemoryTransport | undefined;
  #sink: TransportSink | undefined;
  #early: Uint8Array[] = [];
  #closed = false;
  #split: MemoryTransportOptions["split"];

  constructor(options: MemoryTransportOptions) {
    this.#split = options.split;
  }

  readonly bufferedBytes = 0;

  start(sink: TransportSink): void {
    this.#sink = sink;
    for (const bytes of this.#early.splice(0)) sink.data(bytes);
    if (this.#closed) sink.close();
  }

  write(bytes: Uint8Array): boolean {
    if (this.#closed) return false;
    const copy = bytes.slice();
    const chunks = this.#split === undefined ? [copy] : this.#split(copy);
    queueMicrotask(() => {
      for (const chunk of chunks) this.peer?.receive(chunk);
    });
    return true;
  }

  receive(bytes: Uint8Array): void {
    if (this.#closed) return;
    if (this.#sink === undefined) this.#early.push(bytes);
    else this.#sink.data(bytes);
  }

  close(cause?: RialtoError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sink?.close(cause);
    // Like a socket: the peer sees the end after the bytes already in flight.
    queueMicrotask(() => queueMicrotask(() => this.peer?.close()));
  }
}

/** Two connected in-process transports (for unit tests): what one writes, the other receives. */
export function createMemoryTransportPair(
  options: MemoryTransportOptions = {},
): [Transport, Transport] {
  const a = new MemoryTransport(options);
  const b = new MemoryTransport(options);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
