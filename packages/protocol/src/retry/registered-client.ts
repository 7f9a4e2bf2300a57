import type { AnyEvent, PayloadOf } from "../rpc/descriptor.ts";
import type { RequestEnvelope, ResponseEnvelope } from "../rpc/envelope.ts";
import type { RpcPeer } from "../rpc/rpc-peer.ts";
import { CallStats, type MethodStats } from "./call-stats.ts";
import { EventLog } from "./event-log.ts";
import { type CachedReply, ReplyCache } from "./reply-cache.ts";

/** Counters of one registered client, as the server sees it. */
export interface RegisteredClientStats {
  clientId: number;
  connected: boolean;
  /** Requests run (each at most once). */
  attempted: number;
  /** Of those, requests whose reply is complete. */
  completed: number;
  /** Retransmitted requests answered from the reply cache (or joined while still running). */
  retried: number;
  /** Requests refused without running (limits, stale ids). */
  refused: number;
  /** Replies dropped from the cache because the client acknowledged them. */
  trimmedByAck: number;
  /** Replies dropped from the cache because they outlived the TTL. */
  trimmedByTtl: number;
  /** Replies held now, running ones included. */
  cachedReplies: number;
  /** Events sent or waiting to be sent and not acknowledged yet. */
  unackedEvents: number;
  /** Events numbered so far. */
  events: number;
  /** Events dropped unacknowledged because the client let too many pile up. */
  eventsDropped: number;
  /** Per-method counts and handler latency. */
  methods: Record<string, MethodStats>;
}

/** Limits applied to one client. */
export interface RegisteredClientLimits {
  /** Replies held (running or awaiting acknowledgement) before new calls are refused. */
  maxUnackedCalls: number;
  /** Events kept unacknowledged before the oldest are dropped. */
  maxUnackedEvents: number;
}

/** What a registered client needs of the connection serving it. */
export type ClientConnection = Pick<RpcPeer<unknown>, "emit" | "close">;

/**
 * A client as the retry-RPC server knows it, across its connections: its server-assigned id,
 * the application's per-client state (`session`), its reply cache and its sequenced events.
 * Method handlers receive it as their context.
 */
export class RegisteredClient<Session> {
  /** Server-assigned id (1, 2, ... per server process). */
  readonly id: number;
  /**
   * The secret a reconnect must present with {@link id}: 128 random bits as hex, handed to the
   * client in its register reply only.
   */
  readonly resumeToken: string = crypto.getRandomValues(new Uint8Array(16)).toHex();
  /** The application's state for this client (pipelines, keys, ...). */
  session!: Session;
  #connection: ClientConnection | undefined;
  #released = false;
  readonly #replies = new ReplyCache();
  readonly #events: EventLog;
  readonly #limits: RegisteredClientLimits;
  readonly #now: () => number;
  readonly #methods = new CallStats();
  #attempted = 0;
  #completed = 0;
  #retried = 0;
  #refused = 0;
  #trimmedByAck = 0;
  #trimmedByTtl = 0;
  /** @internal The grace timer while disconnected. */
  graceTimer: ReturnType<typeof setTimeout> | undefined;

  /** @internal Created by the retry server on a first registration. */
  constructor(id: number, limits: RegisteredClientLimits, now: () => number) {
    this.id = id;
    this.#limits = limits;
    this.#now = now;
    this.#events = new EventLog(limits.maxUnackedEvents);
  }

  /** True while a connection is bound to this client. */
  get connected(): boolean {
    return this.#connection !== undefined;
  }

  /** The connection currently serving this client, if any. */
  get connection(): ClientConnection | undefined {
    return this.#connection;
  }

  /** True once the server released this client (its session is gone). */
  get released(): boolean {
    return this.#released;
  }

  /**
   * Sends a sequenced event: numbered, kept until the client acknowledges it, sent now when a
   * connection is bound and again after every reconnect until acknowledged. Returns its seq.
   */
  emit<E extends AnyEvent>(event: E, payload: PayloadOf<E>): number {
    event.payload.assert(payload, `"${event.name}" payload`);
    const logged = this.#events.append(event, payload);
    this.#connection?.emit(event, payload, logged.seq);
    return logged.seq;
  }

  /**
   * Runs one request exactly once: a retransmit is answered from the cache (joining the first
   * run when it is still going); ids the client already acknowledged are refused, as is a
   * client with too many unacknowledged replies.
   */
  handle(
    request: RequestEnvelope,
    dispatch: (request: RequestEnvelope) => ResponseEnvelope | Promise<ResponseEnvelope>,
  ): CachedReply {
    this.#acknowledge(request);
    const cached = this.#replies.lookup(request.id);
    if (cached !== undefined) {
      if (cached.method !== request.method) {
        return this.#refuse(
          request.id,
          "PROTOCOL_ERROR",
          `request id ${request.id} was "${cached.method}" and is now "${request.method}"`,
        );
      }
      this.#retried++;
      return cached.reply;
    }
    if (request.id <= this.#replies.acknowledged) {
      return this.#refuse(
        request.id,
        "PROTOCOL_ERROR",
        `request id ${request.id} ("${request.method}") was already acknowledged (ack ${this.#replies.acknowledged}); not run again`,
      );
    }
    if (this.#replies.size >= this.#limits.maxUnackedCalls) {
      return this.#refuse(
        request.id,
        "RESOURCE_EXHAUSTED",
        `"${request.method}": client ${this.id} has ${this.#replies.size} unacknowledged calls (limit ${this.#limits.maxUnackedCalls})`,
      );
    }
    this.#attempted++;
    const started = this.#now();
    const reply = dispatch(request);
    this.#replies.add(request.id, request.method, reply, this.#now);
    if (reply instanceof Promise) {
      reply.then((response) => this.#finished(request.method, started, response));
    } else {
      this.#finished(request.method, started, reply);
    }
    return reply;
  }

  /** Drops cached replies older than `ttlMs`. */
  expireReplies(ttlMs: number): void {
    this.#trimmedByTtl += this.#replies.expire(this.#now(), ttlMs);
  }

  /** @internal Serves this client on `connection`; sends every unacknowledged event again. */
  bind(connection: ClientConnection): void {
    this.#connection = connection;
    for (const { event, payload, seq } of this.#events.pending()) {
      connection.emit(event, payload, seq);
    }
  }

  /** @internal The connection is gone (lost or superseded). */
  unbind(): void {
    this.#connection = undefined;
  }

  /** @internal Marks the client released. */
  markReleased(): void {
    this.#released = true;
    this.#connection = undefined;
  }

  /** A copy of this client's counters. */
  stats(): RegisteredClientStats {
    return {
      clientId: this.id,
      connected: this.connected,
      attempted: this.#attempted,
      completed: this.#completed,
      retried: this.#retried,
      refused: this.#refused,
      trimmedByAck: this.#trimmedByAck,
      trimmedByTtl: this.#trimmedByTtl,
      cachedReplies: this.#replies.size,
      unackedEvents: this.#events.size,
      events: this.#events.numbered,
      eventsDropped: this.#events.dropped,
      methods: this.#methods.snapshot(),
    };
  }

  #acknowledge(request: RequestEnvelope): void {
    if (request.ack !== undefined) this.#trimmedByAck += this.#replies.acknowledge(request.ack);
    if (request.eventAck !== undefined) this.#events.acknowledge(request.eventAck);
  }

  #finished(method: string, started: number, response: ResponseEnvelope): void {
    this.#completed++;
    this.#methods.record(method, this.#now() - started, response.error !== undefined);
  }

  #refuse(id: number, code: "PROTOCOL_ERROR" | "RESOURCE_EXHAUSTED", message: string) {
    this.#refused++;
    // The wire form directly: a flood of refused calls must not cost an Error (and its stack
    // trace) each.
    return { id, error: { code, message } };
  }
}
