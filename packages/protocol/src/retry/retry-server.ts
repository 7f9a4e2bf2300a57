import type * as NodeCrypto from "node:crypto";
import { describeValue, RialtoError, toRialtoError } from "../errors.ts";
import { encodeJsonFrame } from "../framing/frame-encoder.ts";
import { FrameType } from "../framing/frame-header.ts";
import { SessionMethods } from "../messages/session.ts";
import type { AnyEvent, PayloadOf } from "../rpc/descriptor.ts";
import type { RequestEnvelope, ResponseEnvelope } from "../rpc/envelope.ts";
import type { MethodRouter } from "../rpc/method-router.ts";
import { RpcPeer } from "../rpc/rpc-peer.ts";
import type { Transport } from "../rpc/transport.ts";
import { type ConnectionLimits, DEFAULT_CONNECTION_LIMITS } from "./connection-limits.ts";
import {
  type ClientConnection,
  RegisteredClient,
  type RegisteredClientStats,
} from "./registered-client.ts";

/** Default time a disconnected client's state is kept, in ms (SPEC 7). */
export const DEFAULT_GRACE_MS = 30_000;
/** Default lifetime of an unacknowledged cached reply, in ms. */
export const DEFAULT_REPLY_TTL_MS = 120_000;
/** Default cap on one client's unacknowledged replies (running calls included). */
export const DEFAULT_MAX_UNACKED_CALLS = 1024;
/** Default cap on one client's unacknowledged events. */
export const DEFAULT_MAX_UNACKED_EVENTS = 65_536;

/** Why a client's state was released. */
export type ReleaseReason = "grace" | "refused" | "released" | "closed" | "evicted";

/** Options of {@link RetryServer}. */
export interface RetryServerOptions<Session> {
  /**
   * Handlers of every method, `session/register` included (it runs after the server has
   * resolved the client id; it checks the version and answers with `clientId: client.id`).
   */
  router: MethodRouter<RegisteredClient<Session>>;
  /** Creates the application's state of a newly registered client. */
  createSession(client: RegisteredClient<Session>): Session;
  /** Releases it: grace period over, registration refused, explicit release, or server closed. */
  releaseSession?(client: RegisteredClient<Session>, reason: ReleaseReason): void | Promise<void>;
  /** How long a disconnected client's state is kept, in ms (default 30000). */
  graceMs?: number;
  /** How long an unacknowledged reply is kept, in ms (default 120000). */
  replyTtlMs?: number;
  /** Unacknowledged replies per client before new calls get RESOURCE_EXHAUSTED (default 1024). */
  maxUnackedCalls?: number;
  /** Unacknowledged events per client before the oldest are dropped (default 65536). */
  maxUnackedEvents?: number;
  /** Maximum frame body in bytes (default 1 MiB). */
  maxFrameLength?: number;
  /**
   * Connection limits (defaults {@link DEFAULT_CONNECTION_LIMITS}); this server applies
   * `maxConnections`, `maxClients`, `registrationTimeoutMs`, `frameTimeoutMs`,
   * `maxUnregisteredFrameLength` and `maxFailedResumes` (the output limits belong to the listener).
   */
  limits?: Partial<ConnectionLimits>;
  /** Tag in error messages (default `retry-server`). */
  name?: string;
  /** Trouble a peer caused (bad frames, refused registrations, failing releases); for logging. */
  onError?(error: RialtoError, client: RegisteredClient<Session> | undefined): void;
  /** Monotonic clock in ms (default `performance.now`). */
  now?: () => number;
}

interface ConnectionState<Session> {
  client: RegisteredClient<Session> | undefined;
  registering: boolean;
  /** Resumes refused on this connection (unknown id or wrong secret). */
  failedResumes: number;
  /** Closes the connection if it has not registered in time. */
  registrationTimer: ReturnType<typeof setTimeout> | undefined;
}

type Connection<Session> = RpcPeer<ConnectionState<Session>>;

/** Counters of a {@link RetryServer}. */
export interface RetryServerStats {
  /** Registered clients, connected or within their grace period. */
  clients: number;
  /** Open connections, registered or not. */
  connections: number;
  /** Clients released so far. */
  released: number;
  /** Registrations of a known client id on a new connection (reconnects) so far. */
  reconnects: number;
  /** Connections closed or refused by a limit (connection cap, registration deadline, failed resumes). */
  cutOff: number;
  /** Each registered client's counters. */
  perClient: RegisteredClientStats[];
}

/** Largest client id (ClientId on the wire: 1 .. 2^31 - 1). */
const MAX_CLIENT_ID = 0x7fff_ffff;

const REGISTER = SessionMethods.register;
const PING = SessionMethods.ping;

function errorReply(id: number, error: RialtoError): ResponseEnvelope {
  return { id, error: error.toWire() };
}

function andThen<T, U>(value: T | Promise<T>, next: (value: T) => U): U | Promise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}

/**
 * The server half of retry-RPC (SPEC 7), transport-agnostic: hand it every accepted transport.
 * Client ids (random, so that a restarted server does not hand out an id an old client still
 * holds) are assigned on a first `session/register`; a reconnecting client registers with
 * its id again and keeps its session, reply cache and unacknowledged events (sent again right
 * after the register reply). Before registering, a connection may only `session/ping`. Every reply is
 * cached until acknowledged, so a retransmit never runs twice (one still running on the old
 * connection is joined). A reconnect drains the old connection without waiting: its reader
 * stops at once and its running calls complete into the cache; no other client is held up.
 * A disconnected client is released after the grace period.
 */
export class RetryServer<Session> implements AsyncDisposable {
  readonly #options: RetryServerOptions<Session>;
  readonly #name: string;
  readonly #now: () => number;
  readonly #clients = new Map<number, RegisteredClient<Session>>();
  readonly #connections = new Set<Connection<Session>>();
  readonly #sweeper: ReturnType<typeof setInterval>;
  readonly #limits: ConnectionLimits;
  /**
   * node:crypto's constant-time compare, loaded with the server (a session server's first client)
   * rather than with the first resume, which would stall every client for the load (~10 ms)
   * in the middle of serving.
   */
  readonly #timingSafeEqual = (require("node:crypto") as typeof NodeCrypto).timingSafeEqual;
  #released = 0;
  #reconnects = 0;
  #cutOff = 0;
  #closed = false;

  constructor(options: RetryServerOptions<Session>) {
    if (!options.router.has(REGISTER.name)) {
      throw new RialtoError("INVALID_ARGUMENT", `the router has no "${REGISTER.name}" handler`);
    }
    this.#options = options;
    this.#name = options.name ?? "retry-server";
    this.#now = options.now ?? (() => performance.now());
    this.#limits = { ...DEFAULT_CONNECTION_LIMITS, ...options.limits };
    const ttl = options.replyTtlMs ?? DEFAULT_REPLY_TTL_MS;
    // Sweeping every half TTL keeps a reply at most 1.5 TTL.
    this.#sweeper = setInterval(
      () => {
        for (const client of this.#clients.values()) client.expireReplies(ttl);
      },
      Math.max(ttl / 2, 10),
    );
    this.#sweeper.unref();
  }

  /** Compares two resume secrets in constant time (for equal lengths; the length is no secret). */
  #sameSecret(expected: string, presented: string | undefined): boolean {
    if (presented === undefined || presented.length !== expected.length) return false;
    return this.#timingSafeEqual(Buffer.from(expected), Buffer.from(presented));
  }

  /** Registered clients by id (connected or within their grace period). */
  get clients(): ReadonlyMap<number, RegisteredClient<Session>> {
    return this.#clients;
  }

  /** Open connections, registered or not. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Serves one connection; its first call must be `session/register`, within
   * `registrationTimeoutMs`. At `maxConnections`, the oldest connection that has not registered
   * makes room (it is slow or hostile: a client registers right after connecting); with none,
   * the new connection is refused with RESOURCE_EXHAUSTED.
   */
  accept(transport: Transport): void {
    if (this.#closed) {
      transport.close(new RialtoError("CONNECTION_LOST", `[${this.#name}] server is closed`));
      return;
    }
    if (this.#connections.size >= this.#limits.maxConnections && !this.#evictUnregistered()) {
      this.#cutOff++;
      const refused = new RialtoError(
        "RESOURCE_EXHAUSTED",
        `[${this.#name}] too many connections (limit ${this.#limits.maxConnections})`,
      );
      this.#options.onError?.(refused, undefined);
      transport.write(encodeJsonFrame(FrameType.Notice, { error: refused.toWire() }));
      transport.close(refused);
      return;
    }
    const state: ConnectionState<Session> = {
      client: undefined,
      registering: false,
      failedResumes: 0,
      registrationTimer: undefined,
    };
    const connection: Connection<Session> = new RpcPeer<ConnectionState<Session>>({
      name: this.#name,
      data: state,
      maxFrameLength: this.#options.maxFrameLength,
      maxIncomingFrameLength: this.#limits.maxUnregisteredFrameLength,
      frameTimeoutMs: this.#limits.frameTimeoutMs,
      requestGate: (request) => this.#gate(request, connection),
      onError: (error) => this.#options.onError?.(error, state.client),
      onTransportClose: () => this.#connectionClosed(connection),
    });
    this.#connections.add(connection);
    state.registrationTimer = setTimeout(() => {
      state.registrationTimer = undefined;
      if (state.client !== undefined || connection.isClosed) return;
      this.#cutOff++;
      this.#refuse(
        connection,
        new RialtoError(
          "TIMEOUT",
          `[${this.#name}] no session/register within ${this.#limits.registrationTimeoutMs} ms`,
        ),
      );
    }, this.#limits.registrationTimeoutMs);
    state.registrationTimer.unref?.();
    connection.attach(transport);
  }

  /** Closes the oldest connection that has not registered; false when there is none. */
  #evictUnregistered(): boolean {
    for (const connection of this.#connections) {
      const state = connection.data;
      if (state.client !== undefined || state.registering) continue;
      this.#cutOff++;
      this.#refuse(
        connection,
        new RialtoError(
          "RESOURCE_EXHAUSTED",
          `[${this.#name}] unregistered connection closed to make room (limit ${this.#limits.maxConnections} connections)`,
        ),
      );
      return true;
    }
    return false;
  }

  /** Tells the peer why in a notice, then closes its connection. */
  #refuse(connection: Connection<Session>, error: RialtoError): void {
    this.#options.onError?.(error, connection.data.client);
    connection.writeRaw(encodeJsonFrame(FrameType.Notice, { error: error.toWire() }));
    this.#forget(connection);
    connection.close(error);
  }

  /**
   * Stops counting a connection we close ourselves: closing an `RpcPeer` does not report its
   * own close, so without this superseded and released connections would stay counted and
   * fill the connection cap.
   */
  #forget(connection: ClientConnection): void {
    const known = connection as Connection<Session>;
    if (!this.#connections.delete(known)) return;
    clearTimeout(known.data.registrationTimer);
    known.data.registrationTimer = undefined;
  }

  /** Sends `event` to every registered client (sequenced, replayed after reconnects). */
  broadcast<E extends AnyEvent>(event: E, payload: PayloadOf<E>): void {
    for (const client of this.#clients.values()) client.emit(event, payload);
  }

  /** Releases a client now: its connection is closed and its session released. */
  release(clientId: number, reason: ReleaseReason = "released"): void {
    const client = this.#clients.get(clientId);
    if (client === undefined) return;
    this.#clients.delete(clientId);
    clearTimeout(client.graceTimer);
    const connection = client.connection;
    client.markReleased();
    this.#released++;
    if (connection !== undefined) {
      this.#forget(connection);
      connection.close(
        new RialtoError(
          "CONNECTION_LOST",
          `[${this.#name}] client ${clientId} released (${reason})`,
        ),
      );
    }
    try {
      const done = this.#options.releaseSession?.(client, reason);
      done?.catch((error) => this.#options.onError?.(toRialtoError(error), client));
    } catch (error) {
      this.#options.onError?.(toRialtoError(error), client);
    }
  }

  /** Releases every client and closes every connection; new connections are still served. */
  releaseAll(reason: ReleaseReason = "released"): void {
    for (const id of [...this.#clients.keys()]) this.release(id, reason);
    for (const connection of [...this.#connections]) {
      this.#forget(connection);
      connection.close();
    }
  }

  /** Counters of the server and of every client. */
  stats(): RetryServerStats {
    return {
      clients: this.#clients.size,
      connections: this.#connections.size,
      released: this.#released,
      reconnects: this.#reconnects,
      cutOff: this.#cutOff,
      perClient: [...this.#clients.values()].map((client) => client.stats()),
    };
  }

  /** Closes every connection and releases every client. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    this.releaseAll("closed");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  #gate(
    request: RequestEnvelope,
    connection: Connection<Session>,
  ): ResponseEnvelope | undefined | Promise<ResponseEnvelope | undefined> {
    if (request.method === REGISTER.name) return this.#register(request, connection);
    const state = connection.data;
    const client = state.client;
    if (client === undefined && request.method === PING.name)
      return this.#pingUnregistered(request);
    if (client === undefined || state.registering) {
      return errorReply(
        request.id,
        new RialtoError(
          "INVALID_STATE",
          `"${request.method}" called before session/register completed on this connection`,
        ),
      );
    }
    // A superseded connection is being drained: it runs nothing new.
    if (client.connection !== connection) return undefined;
    return client.handle(request, (next) => this.#options.router.dispatch(next, client));
  }

  /** Health checks may ping before registering: answered at once, nothing cached. */
  #pingUnregistered(request: RequestEnvelope): ResponseEnvelope {
    try {
      return {
        id: request.id,
        result: PING.params.assert(request.params, `"${PING.name}" params`),
      };
    } catch (error) {
      return errorReply(request.id, toRialtoError(error));
    }
  }

  #register(
    request: RequestEnvelope,
    connection: Connection<Session>,
  ): ResponseEnvelope | undefined | Promise<ResponseEnvelope | undefined> {
    const state = connection.data;
    if (state.client !== undefined || state.registering) {
      return errorReply(
        request.id,
        new RialtoError("INVALID_STATE", "session/register called twice on one connection"),
      );
    }
    let requestedId: number | undefined;
    let resumeToken: string | undefined;
    try {
      const params = REGISTER.params.assert(request.params, `"${REGISTER.name}" params`);
      requestedId = params.clientId;
      resumeToken = params.resumeToken;
    } catch (error) {
      return errorReply(request.id, toRialtoError(error));
    }
    let client: RegisteredClient<Session>;
    if (requestedId !== undefined) {
      const known = this.#clients.get(requestedId);
      if (known === undefined || !this.#sameSecret(known.resumeToken, resumeToken)) {
        return this.#failedResume(request.id, requestedId, connection);
      }
      client = known;
      this.#supersede(client);
    } else {
      try {
        client = this.#createClient();
      } catch (error) {
        return errorReply(request.id, toRialtoError(error));
      }
    }
    state.registering = true;
    return andThen(
      this.#options.router.dispatch(request, client),
      (response): ResponseEnvelope | undefined => {
        state.registering = false;
        if (response.error !== undefined) {
          if (requestedId === undefined) this.release(client.id, "refused");
          else if (!client.connected) this.#startGrace(client);
          return response;
        }
        if (client.released) {
          return errorReply(
            request.id,
            new RialtoError("UNKNOWN_CLIENT", `client ${client.id} was released while registering`),
          );
        }
        state.client = client;
        if (requestedId !== undefined) this.#reconnects++;
        clearTimeout(state.registrationTimer);
        state.registrationTimer = undefined;
        if (!connection.isConnected) {
          this.#startGrace(client);
          return undefined;
        }
        this.#supersede(client);
        connection.maxIncomingFrameLength = this.#options.maxFrameLength ?? Number.MAX_SAFE_INTEGER;
        const result = { ...(response.result as object), resumeToken: client.resumeToken };
        // The reply goes out first, so that the client knows its id before its events arrive.
        connection.writeRaw(encodeJsonFrame(FrameType.Response, { id: response.id, result }));
        client.bind(connection);
        return undefined;
      },
    );
  }

  /**
   * Refuses a resume: an unknown id and a wrong secret get the same answer (no oracle for ids).
   * After `maxFailedResumes` on one connection the connection is closed too, so guessing costs
   * a connection per few tries instead of running at the speed of the socket.
   */
  #failedResume(
    requestId: number,
    clientId: number,
    connection: Connection<Session>,
  ): ResponseEnvelope {
    const state = connection.data;
    state.failedResumes++;
    const reply = errorReply(
      requestId,
      new RialtoError(
        "UNKNOWN_CLIENT",
        `client id ${describeValue(clientId)} with this resume token is not registered here (released, or the session server restarted); register without a clientId`,
      ),
    );
    if (state.failedResumes >= this.#limits.maxFailedResumes) {
      this.#cutOff++;
      const error = new RialtoError(
        "PERMISSION_DENIED",
        `[${this.#name}] ${state.failedResumes} failed resumes on one connection`,
      );
      // The reply is written first (synchronously, by the peer); then the notice and the close.
      queueMicrotask(() => this.#refuse(connection, error));
    }
    return reply;
  }

  #createClient(): RegisteredClient<Session> {
    if (this.#clients.size >= this.#limits.maxClients) this.#evictDisconnectedClient();
    const client = new RegisteredClient<Session>(
      this.#unusedClientId(),
      {
        maxUnackedCalls: this.#options.maxUnackedCalls ?? DEFAULT_MAX_UNACKED_CALLS,
        maxUnackedEvents: this.#options.maxUnackedEvents ?? DEFAULT_MAX_UNACKED_EVENTS,
      },
      this.#now,
    );
    client.session = this.#options.createSession(client);
    this.#clients.set(client.id, client);
    return client;
  }

  /**
   * Makes room for a new client by ending the grace period of the disconnected client that has
   * waited longest; RESOURCE_EXHAUSTED when every client is connected.
   */
  #evictDisconnectedClient(): void {
    for (const client of this.#clients.values()) {
      if (client.connected) continue;
      this.release(client.id, "evicted");
      return;
    }
    throw new RialtoError(
      "RESOURCE_EXHAUSTED",
      `[${this.#name}] too many clients (limit ${this.#limits.maxClients})`,
    );
  }

  /**
   * A random id not in use: ids are not remembered across restarts, so counting from 1 would
   * hand a restarted server's new client the id an old client still presents on reconnect.
   */
  #unusedClientId(): number {
    for (;;) {
      const id = crypto.getRandomValues(new Uint32Array(1))[0] as number;
      const clientId = id & MAX_CLIENT_ID;
      if (clientId !== 0 && !this.#clients.has(clientId)) return clientId;
    }
  }

  /** Detaches the client's current connection (if any): stops its grace timer, closes it. */
  #supersede(client: RegisteredClient<Session>): void {
    clearTimeout(client.graceTimer);
    client.graceTimer = undefined;
    const old = client.connection;
    if (old === undefined) return;
    client.unbind();
    this.#forget(old);
    old.close(
      new RialtoError("CONNECTION_LOST", `[${this.#name}] client ${client.id} reconnected`),
    );
  }

  #connectionClosed(connection: Connection<Session>): void {
    this.#connections.delete(connection);
    clearTimeout(connection.data.registrationTimer);
    connection.data.registrationTimer = undefined;
    const client = connection.data.client;
    if (client === undefined || client.connection !== connection) return;
    client.unbind();
    this.#startGrace(client);
  }

  #startGrace(client: RegisteredClient<Session>): void {
    if (this.#closed || client.released) return;
    clearTimeout(client.graceTimer);
    client.graceTimer = setTimeout(
      () => this.release(client.id, "grace"),
      this.#options.graceMs ?? DEFAULT_GRACE_MS,
    );
    client.graceTimer.unref();
  }
}
