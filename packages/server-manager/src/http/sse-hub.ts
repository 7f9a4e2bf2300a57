/** Limits of {@link SseHub}. */
export interface SseLimits {
  /** Clients connected at once; one more is refused (503). */
  maxClients: number;
  /**
   * Bytes that may wait for one client (written by us, not yet taken by the HTTP layer because
   * the client reads too slowly); past it the client is dropped.
   */
  maxBufferedBytes: number;
}

/** One connected server-sent-events client. */
export interface SseClient {
  /** Queues one event; drops the client when its buffer is over the limit. */
  send(event: string, data: unknown): void;
  /** Ends the stream. Idempotent. */
  close(): void;
  readonly isOpen: boolean;
}

const encoder = new TextEncoder();

/**
 * Server-sent-events clients with bounds: at most `maxClients` at once, and each with at most
 * `maxBufferedBytes` queued. The stream's queue is counted in bytes and only drains as fast as
 * the HTTP layer can write to the socket; a client whose queue overflows is dropped (its
 * stream is errored and closed) instead of being buffered for forever.
 */
export class SseHub {
  readonly #limits: SseLimits;
  readonly #clients = new Set<SseClient>();
  #dropped = 0;

  constructor(limits: SseLimits) {
    this.#limits = limits;
  }

  /** Clients connected now. */
  get size(): number {
    return this.#clients.size;
  }

  /** Clients dropped so far because they read too slowly. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Opens a stream for a new client, or returns undefined when `maxClients` are connected.
   * `onOpen` runs once the client exists (it may send at once); `onClose` once it is gone, for
   * whatever reason (closed by the peer, dropped, {@link closeAll}).
   */
  open(
    onOpen: (client: SseClient) => void,
    onClose: () => void,
  ): ReadableStream<Uint8Array> | undefined {
    if (this.#clients.size >= this.#limits.maxClients) return undefined;
    const clients = this.#clients;
    const limit = this.#limits.maxBufferedBytes;
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    let open = true;
    const end = (dropped: boolean) => {
      if (!open) return;
      open = false;
      clients.delete(client);
      if (dropped) this.#dropped++;
      try {
        if (dropped) controller?.error(new Error("server-sent-events client too slow"));
        else controller?.close();
      } catch {
        // Already closed by the peer.
      }
      onClose();
    };
    const client: SseClient = {
      send: (event, data) => {
        if (!open || controller === undefined) return;
        const chunk = encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        controller.enqueue(chunk);
        if ((controller.desiredSize ?? 0) < 0) end(true);
      },
      close: () => end(false),
      get isOpen() {
        return open;
      },
    };
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          controller = c;
        },
        cancel: () => end(false),
      },
      { highWaterMark: limit, size: (chunk) => chunk?.byteLength ?? 0 },
    );
    clients.add(client);
    onOpen(client);
    return stream;
  }

  /** Sends one event to every client. */
  broadcast(event: string, data: unknown): void {
    for (const client of [...this.#clients]) client.send(event, data);
  }

  /** Ends every stream. */
  closeAll(): void {
    for (const client of [...this.#clients]) client.close();
  }
}
