import { RialtoError, toRialtoError } from "../errors.ts";
import { type RegisterParams, type RegisterResult, SessionMethods } from "../messages/session.ts";
import type { AnyEvent, AnyMethod, ParamsOf, PayloadOf, ResultOf } from "../rpc/descriptor.ts";
import { type CallOptions, DEFAULT_CALL_TIMEOUT_MS, RpcPeer } from "../rpc/rpc-peer.ts";
import type { Transport } from "../rpc/transport.ts";
import { CallStats, type MethodStats } from "./call-stats.ts";
import { EventSequence } from "./event-sequence.ts";
import {
  type ReconnectPolicy,
  reconnectDelay,
  resolveReconnectPolicy,
} from "./reconnect-policy.ts";

/** Delivered events after which an acknowledgement goes out at once. */
const ACK_AFTER_EVENTS = 64;
/** How long delivered events may wait for a call to carry their acknowledgement, in ms. */
const ACK_DELAY_MS = 50;
/** Errors after which redialling cannot help. */
const FATAL_CODES = new Set(["INCOMPATIBLE_VERSION", "INVALID_ARGUMENT", "PERMISSION_DENIED"]);

/** Options of {@link RetryClient.connect}. */
export interface RetryClientOptions {
  /** Opens a new connection to the server (the only OS boundary: sockets in production). */
  connect(): Promise<Transport>;
  /**
   * The registration params of every (re)connection, without `clientId` (the retry client adds
   * it). Called once per registration; `fresh` when the server will assign a new id (first
   * connection, or after it forgot this client), e.g. to open a new fd side channel.
   */
  registration(
    fresh: boolean,
  ): Omit<RegisterParams, "clientId"> | Promise<Omit<RegisterParams, "clientId">>;
  /**
   * Called once before the first connection: subscribe to events here, so that none of the
   * first ones (sent right after the register reply) arrives before its listener.
   */
  subscribe?(client: RetryClient): void;
  /** Default call deadline in ms (default 3000). */
  timeoutMs?: number;
  /** Redial schedule (default: at once, then 100 ms doubling, 8 retries). */
  reconnect?: Partial<ReconnectPolicy>;
  /** Maximum frame body in bytes (default 1 MiB). */
  maxFrameLength?: number;
  /** Tag in error messages (default `retry-client`). */
  name?: string;
  /**
   * After every successful registration, before held calls go out again. `fresh`: the server
   * assigned a new id (the first connection, or after it had forgotten this client).
   */
  onRegistered?(result: RegisterResult, fresh: boolean): void;
  /** A reconnect attempt failed; `attempt` counts from 1. */
  onReconnectFailed?(error: RialtoError, attempt: number): void;
  /** Reconnecting gave up: every pending call has been rejected with CONNECTION_LOST. */
  onLost?(error: RialtoError): void;
  /** Non-fatal trouble (bad frames, failing listeners); for logging. */
  onError?(error: RialtoError): void;
}

/** Connection state of a {@link RetryClient}. */
export type RetryClientState = "connecting" | "connected" | "reconnecting" | "closed";

/** RPC counters of a {@link RetryClient} (the retry-RPC design's client-side stats). */
export interface RetryClientStats {
  /** The server-assigned client id (undefined before the first registration). */
  clientId: number | undefined;
  state: RetryClientState;
  /** Calls made through {@link RetryClient.call}. */
  calls: number;
  /** Calls sent again after a reconnect. */
  retransmits: number;
  /** Successful reconnects. */
  reconnects: number;
  /** Registrations that got a new client id after the first (the server had lost this client). */
  reregistrations: number;
  /** Sequenced events delivered to listeners (duplicates excluded). */
  events: number;
  /** Events dropped as duplicates of ones already delivered. */
  duplicateEvents: number;
  /** Calls in flight now. */
  pending: number;
  /** Per-method counts and latencies, keyed by wire name. */
  methods: Record<string, MethodStats>;
}

type Listener = (payload: unknown) => void;

/**
 * The client half of retry-RPC (SPEC 7), transport-agnostic. Registers on connect; when the
 * connection breaks it redials with backoff, registers again with its client id, and sends
 * the calls still pending again, in id order, so the server's reply cache answers each
 * exactly once. If the server no longer knows the id (`UNKNOWN_CLIENT`: restarted, or the
 * grace period ran out) it registers afresh and fails the calls that were pending with
 * CONNECTION_LOST (they may or may not have run). Giving up fails every pending call with
 * CONNECTION_LOST at once. Server events are delivered once each, in order, and acknowledged.
 */
export class RetryClient implements AsyncDisposable {
  readonly #options: RetryClientOptions;
  readonly #policy: ReconnectPolicy;
  readonly #name: string;
  readonly #peer: RpcPeer;
  readonly #events = new EventSequence();
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #methods = new CallStats();
  #state: RetryClientState = "connecting";
  #clientId: number | undefined;
  /** The secret the server handed out with the id; presented with it on every resume. */
  #resumeToken: string | undefined;
  #calls = 0;
  #retransmits = 0;
  #reconnects = 0;
  #reregistrations = 0;
  #eventsDelivered = 0;
  #ackSent = 0;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;

  private constructor(options: RetryClientOptions) {
    this.#options = options;
    this.#policy = resolveReconnectPolicy(options.reconnect);
    this.#name = options.name ?? "retry-client";
    this.#peer = new RpcPeer({
      name: this.#name,
      timeoutMs: options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
      maxFrameLength: options.maxFrameLength,
      onDisconnect: "hold",
      eventAck: () => {
        this.#ackSent = this.#events.delivered;
        return this.#ackSent;
      },
      onTransportClose: () => this.#transportLost(),
      onError: (error) => options.onError?.(error),
    });
  }

  /**
   * Connects and registers (once: a first connection that fails rejects, CONNECTION_LOST when
   * nobody listens). Later losses are handled by reconnecting.
   */
  static async connect(options: RetryClientOptions): Promise<RetryClient> {
    const client = new RetryClient(options);
    options.subscribe?.(client);
    try {
      await client.#establish();
    } catch (error) {
      client.#shutdown(toRialtoError(error), false);
      throw error;
    }
    client.#state = "connected";
    return client;
  }

  /** The server-assigned client id. */
  get clientId(): number | undefined {
    return this.#clientId;
  }

  /** Connection state. */
  get state(): RetryClientState {
    return this.#state;
  }

  /**
   * Calls `method` exactly once on the server, across reconnects. Rejects with the server's
   * error, TIMEOUT past the deadline, or CONNECTION_LOST once the client gave up or closed.
   */
  async call<M extends AnyMethod>(
    method: M,
    params: ParamsOf<M>,
    options?: CallOptions,
  ): Promise<ResultOf<M>> {
    this.#calls++;
    const started = performance.now();
    let failed = true;
    try {
      const result = await this.#peer.call(method, params, options);
      failed = false;
      return result;
    } finally {
      this.#methods.record(method.name, performance.now() - started, failed);
    }
  }

  /** Listens for a server event; each sequenced event arrives once, in order. Returns an unsubscribe. */
  on<E extends AnyEvent>(event: E, listener: (payload: PayloadOf<E>) => void): () => void {
    let listeners = this.#listeners.get(event.name);
    if (listeners === undefined) {
      const set = new Set<Listener>();
      listeners = set;
      this.#listeners.set(event.name, set);
      this.#peer.on(event, (payload, seq) => this.#deliver(set, payload, seq));
    }
    const entry = listener as Listener;
    listeners.add(entry);
    return () => listeners.delete(entry);
  }

  /** Fault injection: breaks the connection as a network fault would; the client recovers. */
  dropConnection(): void {
    this.#peer.transport?.close(
      new RialtoError("CONNECTION_LOST", `[${this.#name}] connection dropped (fault injection)`),
    );
  }

  /** A copy of the RPC counters. */
  stats(): RetryClientStats {
    return {
      clientId: this.#clientId,
      state: this.#state,
      calls: this.#calls,
      retransmits: this.#retransmits,
      reconnects: this.#reconnects,
      reregistrations: this.#reregistrations,
      events: this.#eventsDelivered,
      duplicateEvents: this.#events.duplicates,
      pending: this.#peer.pendingCalls,
      methods: this.#methods.snapshot(),
    };
  }

  /** Closes for good: pending calls reject with CONNECTION_LOST. Idempotent. */
  close(): void {
    this.#shutdown(new RialtoError("CONNECTION_LOST", `[${this.#name}] client closed`), false);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /** Connects, registers with calls held, then lets them go. */
  async #establish(): Promise<void> {
    const transport = await this.#options.connect();
    if (this.#state === "closed") {
      transport.close();
      throw new RialtoError("CONNECTION_LOST", `[${this.#name}] client closed`);
    }
    this.#peer.pause();
    this.#peer.attach(transport);
    await this.#register();
    if (!this.#peer.isConnected) {
      throw new RialtoError("CONNECTION_LOST", `[${this.#name}] connection lost while registering`);
    }
    this.#retransmits += this.#peer.resume();
  }

  async #register(): Promise<void> {
    const fresh = this.#clientId === undefined;
    const base = await this.#options.registration(fresh);
    // A new client id numbers its events from 1 again.
    if (fresh) this.#events.reset();
    const params = fresh
      ? base
      : this.#resumeToken === undefined
        ? { ...base, clientId: this.#clientId }
        : { ...base, clientId: this.#clientId, resumeToken: this.#resumeToken };
    let result: RegisterResult;
    try {
      result = await this.#peer.call(SessionMethods.register, params, { control: true });
    } catch (error) {
      const failure = toRialtoError(error);
      if (fresh || failure.code !== "UNKNOWN_CLIENT") throw failure;
      this.#peer.rejectPending(
        new RialtoError(
          "CONNECTION_LOST",
          `[${this.#name}] the server no longer knows client ${this.#clientId}; the call may or may not have run`,
          { cause: failure },
        ),
      );
      this.#clientId = undefined;
      this.#resumeToken = undefined;
      this.#reregistrations++;
      return this.#register();
    }
    if (!fresh && result.clientId !== this.#clientId) {
      throw new RialtoError(
        "PROTOCOL_ERROR",
        `[${this.#name}] registered as client ${this.#clientId} but the server answered ${result.clientId}`,
      );
    }
    this.#clientId = result.clientId;
    if (result.resumeToken !== undefined) this.#resumeToken = result.resumeToken;
    this.#options.onRegistered?.(result, fresh);
  }

  #transportLost(): void {
    // While connecting, the registration call fails on its own and the loop retries.
    if (this.#state !== "connected") return;
    void this.#reconnect();
  }

  async #reconnect(): Promise<void> {
    this.#state = "reconnecting";
    this.#peer.pause();
    let lastError = new RialtoError("CONNECTION_LOST", `[${this.#name}] connection lost`);
    let attempts = 0;
    for (let attempt = 0; attempt <= this.#policy.maxRetries; attempt++) {
      attempts++;
      await this.#sleep(reconnectDelay(this.#policy, attempt));
      if (this.#isClosed()) return;
      try {
        await this.#establish();
        this.#reconnects++;
        this.#state = "connected";
        this.#scheduleAck();
        return;
      } catch (error) {
        lastError = toRialtoError(error);
        this.#peer.transport?.close();
        if (this.#isClosed()) return;
        if (FATAL_CODES.has(lastError.code)) break;
        this.#options.onReconnectFailed?.(lastError, attempt + 1);
      }
    }
    this.#shutdown(
      new RialtoError(
        "CONNECTION_LOST",
        `[${this.#name}] gave up reconnecting after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${lastError.message}`,
        { cause: lastError },
      ),
      true,
    );
  }

  // A method, so that TypeScript does not carry a narrowed state across awaits.
  #isClosed(): boolean {
    return this.#state === "closed";
  }

  #sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #deliver(listeners: Set<Listener>, payload: unknown, seq: number | undefined): void {
    if (!this.#events.accept(seq)) return;
    this.#eventsDelivered++;
    for (const listener of listeners) {
      try {
        listener(payload);
      } catch (error) {
        this.#options.onError?.(toRialtoError(error));
      }
    }
    this.#scheduleAck();
  }

  // Acknowledgements ride on calls; when the app makes none, a ping carries them.
  #scheduleAck(): void {
    const unacked = this.#events.delivered - this.#ackSent;
    if (unacked <= 0 || this.#state === "closed") return;
    if (unacked >= ACK_AFTER_EVENTS && this.#state === "connected") {
      this.#sendAck();
      return;
    }
    this.#ackTimer ??= setTimeout(() => {
      this.#ackTimer = undefined;
      if (this.#state === "connected") this.#sendAck();
    }, ACK_DELAY_MS);
  }

  #sendAck(): void {
    if (this.#events.delivered <= this.#ackSent) return;
    this.#peer.call(SessionMethods.ping, { value: 0 }).catch(() => {});
  }

  #shutdown(cause: RialtoError, lost: boolean): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    clearTimeout(this.#ackTimer);
    this.#wake?.();
    this.#peer.close(cause);
    if (lost) this.#options.onLost?.(cause);
  }
}
