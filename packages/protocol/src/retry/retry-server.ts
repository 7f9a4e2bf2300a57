import { describeValue, RialtoError, toRialtoError } from "../errors.ts";
import { encodeJsonFrame } from "../framing/frame-encoder.ts";
import { FrameType } from "../framing/frame-header.ts";
import { SessionMethods } from "../messages/session.ts";
import type { AnyEvent, PayloadOf } from "../rpc/descriptor.ts";
import type { RequestEnvelope, ResponseEnvelope } from "../rpc/envelope.ts";
import type { MethodRouter } from "../rpc/method-router.ts";
import { RpcPeer } from "../rpc/rpc-peer.ts";
import type { Transport } from "../rpc/transport.ts";
import { RegisteredClient, type RegisteredClientStats } from "./registered-client.ts";

/** Default time a disconnected client's state is kept, in ms (SPEC 7). */
export const DEFAULT_GRACE_MS = 30_000;
/** Default lifetime of an unacknowledged cached reply, in ms. */
export const DEFAULT_REPLY_TTL_MS = 120_000;
/** Default cap on one client's unacknowledged replies (running calls included). */
export const DEFAULT_MAX_UNACKED_CALLS = 4096;
/** Default cap on one client's unacknowledged events. */
export const DEFAULT_MAX_UNACKED_EVENTS = 65_536;

/** Why a client's state was released. */
export type ReleaseReason = "grace" | "refused" | "released" | "closed";

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
  /** Unacknowledged replies per client before new calls get RESOURCE_EXHAUSTED (default 4096). */
  maxUnackedCalls?: number;
  /** Unacknowledged events per client before the oldest are dropped (default 65536). */
  maxUnackedEvents?: number;
  /** Maximum frame body in bytes (default 1 MiB). */
  maxFrameLength?: number;
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
  #released = 0;
  #reconnects = 0;
  #closed = false;

  constructor(options: RetryServerOptions<Session>) {
    if (!options.router.has(REGISTER.name)) {
      throw new RialtoError("INVALID_ARGUMENT", `the router has no "${REGISTER.name}" handler`);
    }
    this.#options = options;
    this.#name = options.name ?? "retry-server";
    this.#now = options.now ?? (() => performance.now());
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

  /** Registered clients by id (connected or within their grace period). */
  get clients(): ReadonlyMap<number, RegisteredClient<Session>> {
    return this.#clients;
  }

  /** Open connections, registered or not. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Serves one connection; its first call must be `session/register`. */
  accept(transport: Transport): void {
    if (this.#closed) {
      transport.close(new RialtoError("CONNECTION_LOST", `[${this.#name}] server is closed`));
      return;
    }
    const state: ConnectionState<Session> = { client: undefined, registering: false };
    const connection: Connection<Session> = new RpcPeer<ConnectionState<Session>>({
      name: this.#name,
      data: state,
      maxFrameLength: this.#options.maxFrameLength,
      requestGate: (request) => this.#gate(request, connection),
      onError: (error) => this.#options.onError?.(error, state.client),
      onTransportClose: () => this.#connectionClosed(connection),
    });
    this.#connections.add(connection);
    connection.attach(transport);
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
    connection?.close(
      new RialtoError("CONNECTION_LOST", `[${this.#name}] client ${clientId} released (${reason})`),
    );
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
    for (const connection of [...this.#connections]) connection.close();
  }

  /** Counters of the server and of every client. */
  stats(): RetryServerStats {
    return {
      clients: this.#clients.size,
      connections: this.#connections.size,
      released: this.#released,
      reconnects: this.#reconnects,
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
    try {
      requestedId = REGISTER.params.assert(request.params, `"${REGISTER.name}" params`).clientId;
    } catch (error) {
      return errorReply(request.id, toRialtoError(error));
    }
    let client: RegisteredClient<Session>;
    if (requestedId !== undefined) {
      const known = this.#clients.get(requestedId);
      if (known === undefined) {
        return errorReply(
          request.id,
          new RialtoError(
            "UNKNOWN_CLIENT",
            `client id ${describeValue(requestedId)} is not registered here (released, or the session server restarted); register without a clientId`,
          ),
        );
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
        if (!connection.isConnected) {
          this.#startGrace(client);
          return undefined;
        }
        this.#supersede(client);
        // The reply goes out first, so that the client knows its id before its events arrive.
        connection.writeRaw(encodeJsonFrame(FrameType.Response, response));
        client.bind(connection);
        return undefined;
      },
    );
  }

  #createClient(): RegisteredClient<Session> {
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
    old.close(
      new RialtoError("CONNECTION_LOST", `[${this.#name}] client ${client.id} reconnected`),
    );
  }

  #connectionClosed(connection: Connection<Session>): void {
    this.#connections.delete(connection);
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
