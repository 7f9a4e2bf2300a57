import { RialtoError } from "../errors.ts";

/** Default bytes all connections of one listener may have queued for slow readers together. */
export const DEFAULT_MAX_TOTAL_BUFFERED_BYTES = 32 * 1024 * 1024;

/** A connection whose queued output the budget can see and cut off. */
export interface BudgetedConnection {
  /** Bytes queued for the peer now. */
  readonly bufferedBytes: number;
  /** Closes the connection (its queue is released). */
  close(cause?: RialtoError): void;
}

/**
 * One bound on the output queued for slow or absent readers across all connections of a
 * listener: the per-connection cap alone lets N peers that never read hold N times it. When a
 * write takes the total past the bound, the connection with the largest queue (the worst
 * reader, not necessarily the writer) is cut off.
 */
export class OutputBudget {
  readonly maxBytes: number;
  readonly #connections = new Set<BudgetedConnection>();
  #total = 0;
  #cut = 0;

  constructor(maxBytes: number = DEFAULT_MAX_TOTAL_BUFFERED_BYTES) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `output budget of ${maxBytes} bytes is not a positive integer`,
      );
    }
    this.maxBytes = maxBytes;
  }

  /** Bytes queued now over every connection. */
  get totalBytes(): number {
    return this.#total;
  }

  /** Connections cut off so far for exceeding the budget. */
  get cutOff(): number {
    return this.#cut;
  }

  /** Starts counting `connection`. */
  add(connection: BudgetedConnection): void {
    this.#connections.add(connection);
  }

  /** Stops counting `connection`; `queued` is what it still had counted. */
  remove(connection: BudgetedConnection, queued: number): void {
    if (this.#connections.delete(connection)) this.#total -= queued;
  }

  /** Records a change of `delta` bytes in one connection's queue; cuts the worst past the bound. */
  charge(delta: number): void {
    this.#total += delta;
    while (delta > 0 && this.#total > this.maxBytes) {
      let worst: BudgetedConnection | undefined;
      for (const connection of this.#connections) {
        if (worst === undefined || connection.bufferedBytes > worst.bufferedBytes)
          worst = connection;
      }
      if (worst === undefined || worst.bufferedBytes === 0) return;
      this.#cut++;
      worst.close(
        new RialtoError(
          "RESOURCE_EXHAUSTED",
          `peer is not reading: ${worst.bufferedBytes} bytes queued, and all connections together exceed ${this.maxBytes} bytes`,
        ),
      );
    }
  }
}
