import type { RialtoError } from "../errors.ts";
import type { AnyMethod } from "./descriptor.ts";
import { ReplyWatermark } from "./reply-watermark.ts";
import type { Transport } from "./transport.ts";

/** A call waiting for its reply. */
export interface PendingCall {
  method: string;
  frame: Uint8Array;
  resolve(result: unknown): void;
  reject(error: RialtoError): void;
  /** `performance.now()` past which the call fails with TIMEOUT. */
  deadline: number;
  timeoutMs: number;
  validate: AnyMethod["result"];
  /** A connection-control call (see `CallOptions.control`). */
  control: boolean;
  /** The transport the frame was last written to. */
  sentOn: Transport | undefined;
  /** Written to some transport at least once. */
  everSent: boolean;
}

/**
 * The calls a peer waits on, by request id (iteration is id order). Each settles once: answered,
 * failed or expired; settled ids feed the "highest consecutive reply seen" watermark. Deadlines
 * share one timer armed for the earliest of them: a timer per call costs more than the rest of a
 * small call's bookkeeping.
 */
export class PendingCalls {
  readonly #calls = new Map<number, PendingCall>();
  readonly #watermark = new ReplyWatermark();
  readonly #onExpired: (call: PendingCall) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerDeadline = Number.POSITIVE_INFINITY;

  /** `onExpired` gets each call whose deadline passed, already settled. */
  constructor(onExpired: (call: PendingCall) => void) {
    this.#onExpired = onExpired;
  }

  get size(): number {
    return this.#calls.size;
  }

  /** Every id up to this one has settled. */
  get highestSettled(): number {
    return this.#watermark.highest;
  }

  /** Calls in id order. */
  entries(): IterableIterator<[number, PendingCall]> {
    return this.#calls.entries();
  }

  /** Starts waiting for `id`'s reply until `call.deadline`. */
  add(id: number, call: PendingCall): void {
    this.#calls.set(id, call);
    this.#arm(call.deadline);
  }

  /** Stops waiting for `id`; returns its call unless it had settled already. */
  settle(id: number): PendingCall | undefined {
    const call = this.#calls.get(id);
    if (call === undefined) return undefined;
    this.#calls.delete(id);
    this.#watermark.settle(id);
    // An idle peer must not keep the process alive; the timer itself stays for the next call.
    if (this.#calls.size === 0) this.#timer?.unref();
    return call;
  }

  /** Records an id that never became a pending call (it failed before it was sent). */
  skip(id: number): void {
    this.#watermark.settle(id);
  }

  /** Settles every call and returns them, in id order. */
  settleAll(): PendingCall[] {
    return [...this.#calls.keys()].map((id) => this.settle(id) as PendingCall);
  }

  /** Stops the deadline timer (the owner is closing). */
  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDeadline = Number.POSITIVE_INFINITY;
  }

  #arm(deadline: number): void {
    if (this.#timer !== undefined && this.#timerDeadline <= deadline) {
      this.#timer.ref();
      return;
    }
    this.dispose();
    this.#timerDeadline = deadline;
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, deadline - performance.now()));
  }

  #expire(): void {
    this.#timer = undefined;
    this.#timerDeadline = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [id, call] of this.#calls) {
      if (call.deadline <= now) {
        this.settle(id);
        this.#onExpired(call);
      } else if (call.deadline < next) {
        next = call.deadline;
      }
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
  }
}
