import type { ResponseEnvelope } from "../rpc/envelope.ts";

/** A reply the cache holds: still being computed (a promise) or complete. */
export type CachedReply = ResponseEnvelope | Promise<ResponseEnvelope>;

interface Entry {
  method: string;
  reply: CachedReply;
  /** When the reply completed (the TTL counts from here); undefined while running. */
  completedAt: number | undefined;
}

/**
 * One client's replies by request id (retry-RPC). Every reply is kept, errors included, so a
 * retransmitted request is answered from here and never run twice; a request still running
 * is kept as its promise, so a retransmit joins it. Entries leave when the client acknowledges
 * them (its `ack`, the highest consecutive reply it has seen) or when they outlive the TTL.
 */
export class ReplyCache {
  readonly #entries = new Map<number, Entry>();
  #acknowledged = 0;

  /** Every id up to this one has been acknowledged by the client; such ids never run again. */
  get acknowledged(): number {
    return this.#acknowledged;
  }

  /** Replies held, running ones included. */
  get size(): number {
    return this.#entries.size;
  }

  /** Replies still being computed. */
  get running(): number {
    let running = 0;
    for (const entry of this.#entries.values()) if (entry.completedAt === undefined) running++;
    return running;
  }

  /** The reply held for `id`, with the method it answers. */
  lookup(id: number): { method: string; reply: CachedReply } | undefined {
    return this.#entries.get(id);
  }

  /**
   * Holds the reply of a request that just ran (or started running, as a promise). A promise is
   * replaced by its outcome when it settles, and its TTL starts then.
   */
  add(id: number, method: string, reply: CachedReply, now: () => number): void {
    if (!(reply instanceof Promise)) {
      this.#entries.set(id, { method, reply, completedAt: now() });
      return;
    }
    const entry: Entry = { method, reply, completedAt: undefined };
    this.#entries.set(id, entry);
    reply.then(
      (response) => {
        // Acknowledged (and dropped) while running: nothing to keep.
        if (this.#entries.get(id) !== entry) return;
        entry.reply = response;
        entry.completedAt = now();
      },
      () => {
        // The server turns handler failures into error replies; a rejected promise here means a
        // bug upstream, and the retransmit will report it again.
        if (this.#entries.get(id) === entry) this.#entries.delete(id);
      },
    );
  }

  /**
   * Records the client's acknowledgement: replies up to `ack` leave the cache. Acks only move
   * forward (a retransmitted frame carries the older ack it was first sent with). Returns how
   * many replies left.
   */
  acknowledge(ack: number): number {
    if (ack <= this.#acknowledged) return 0;
    this.#acknowledged = ack;
    let trimmed = 0;
    for (const id of this.#entries.keys()) {
      if (id <= ack) {
        this.#entries.delete(id);
        trimmed++;
      }
    }
    return trimmed;
  }

  /** Drops completed replies older than `ttlMs` at time `now`; returns how many. */
  expire(now: number, ttlMs: number): number {
    let expired = 0;
    for (const [id, entry] of this.#entries) {
      if (entry.completedAt !== undefined && now - entry.completedAt >= ttlMs) {
        this.#entries.delete(id);
        expired++;
      }
    }
    return expired;
  }
}
