import type { AnyEvent } from "../rpc/descriptor.ts";

/** One sequenced server-to-client event. */
export interface LoggedEvent {
  /** Sequence number: 1, 2, ... per client. */
  readonly seq: number;
  readonly event: AnyEvent;
  readonly payload: unknown;
}

/**
 * A client's server-to-client events, numbered from 1 and kept until the client acknowledges
 * them (the `eventAck` on its requests), so that a reconnect can send again what it may have
 * missed. Holds at most `capacity` events: past it the oldest are dropped and counted.
 */
export class EventLog {
  #events: LoggedEvent[] = [];
  #head = 0;
  #nextSeq = 1;
  #acknowledged = 0;
  #dropped = 0;
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Events not acknowledged yet. */
  get size(): number {
    return this.#events.length - this.#head;
  }

  /** Events numbered so far (the last seq handed out). */
  get numbered(): number {
    return this.#nextSeq - 1;
  }

  /** Highest seq the client has acknowledged. */
  get acknowledged(): number {
    return this.#acknowledged;
  }

  /** Events dropped unacknowledged because the log was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Numbers and keeps an event; returns it. */
  append(event: AnyEvent, payload: unknown): LoggedEvent {
    const logged = { seq: this.#nextSeq++, event, payload };
    this.#events.push(logged);
    if (this.size > this.#capacity) {
      this.#head++;
      this.#dropped++;
      this.#compact();
    }
    return logged;
  }

  /** Drops every event up to `ack` (acks only move forward); returns how many left. */
  acknowledge(ack: number): number {
    if (ack <= this.#acknowledged) return 0;
    this.#acknowledged = Math.min(ack, this.#nextSeq - 1);
    const start = this.#head;
    while (this.#head < this.#events.length) {
      const first = this.#events[this.#head] as LoggedEvent;
      if (first.seq > this.#acknowledged) break;
      this.#head++;
    }
    const trimmed = this.#head - start;
    this.#compact();
    return trimmed;
  }

  /** The unacknowledged events, oldest first. */
  pending(): readonly LoggedEvent[] {
    return this.#events.slice(this.#head);
  }

  // Trimming moves a head index; the array is copied only once most of it is dead.
  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#events.length) {
      this.#events = this.#events.slice(this.#head);
      this.#head = 0;
    }
  }
}
