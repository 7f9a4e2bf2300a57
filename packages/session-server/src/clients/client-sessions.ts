import {
  type ApplicationState,
  DEFAULT_PLAYBACK_OPTIONS,
  encodeJsonFrame,
  FrameType,
  MethodRouter,
  type Resources,
  RetryServer,
  RialtoError,
  type RpcEnvironment,
  readConnectionLimits,
  readRpcEnvironment,
  SessionEvents,
  type SocketTransport,
  type StatsEvent,
  toRialtoError,
} from "@rialto/protocol";
import { TestMethods } from "@rialto/protocol/testing";
import { type FdChannel, socketPeerCredentials } from "@rialto/shm";
import type { AvMemory } from "../av-memory.ts";
import type { ClientGateway, ClientGatewayOptions } from "../client-gateway/client-gateway.ts";
import type { ClientListener } from "../client-listener.ts";
import { createFrameDecryptor } from "../keys/frame-decryptor.ts";
import type { SessionServerLogger } from "../logger.ts";
import { ClientState } from "./client-state.ts";
import type { Client, ClientRouter, ClientsContext } from "./clients-context.ts";
import { ClientHeartbeats, type HeartbeatOutcome, runHeartbeat } from "./heartbeat.ts";
import { MediaKeysBook } from "./media-keys-book.ts";
import { addMediaKeysHandlers } from "./media-keys-handlers.ts";
import { PipelineBook } from "./pipeline-book.ts";
import { addPipelineControlHandlers } from "./pipeline-control-handlers.ts";
import { addPipelineHandlers } from "./pipeline-handlers.ts";
import { addPipelinePlaybackHandlers } from "./pipeline-playback-handlers.ts";
import { addSessionHandlers } from "./session-handlers.ts";
import { addShmPoolHandlers } from "./shm-pool-handlers.ts";
import { FreezableClock } from "./test-support/freezable-clock.ts";
import { WebAudioBook } from "./web-audio-book.ts";
import { addWebAudioHandlers } from "./web-audio-handlers.ts";

/** How long a refused connection stays open after its notice, ms. */
const REFUSAL_LINGER_MS = 100;

/** Options of {@link createClientSessions}. */
export interface ClientSessionsOptions extends ClientGatewayOptions {
  /**
   * Grace period (unless `clientGracePeriodMs` is given) and shm RPC limits; default read from
   * the environment (`readRpcEnvironment`).
   */
  environment?: RpcEnvironment;
  /** How long an unacknowledged reply is cached, ms (default 120000). */
  replyTtlMs?: number;
  /**
   * Also serve `test/echo`, `test/blob`, `test/sleep` and `test/emitTicks` (large calls, slow
   * calls and many events, for end-to-end tests of retry-RPC and the shm pool). Default:
   * `RIALTO_ENABLE_TEST_METHODS=1` in the environment.
   */
  testMethods?: boolean;
}

/**
 * The session server's clients over retry-RPC (SPEC 7): behind the {@link ClientGateway}
 * interface, which the session server's state machine drives.
 */
export function createClientSessions(options: ClientSessionsOptions): ClientGateway {
  return new ClientSessions(options);
}

/**
 * Every client of the app: a {@link RetryServer} gives each one an id, a reply cache and
 * sequenced events across reconnects; its {@link ClientState} (side channel, shm pool) lives until its grace period after a disconnect ends, or the session server stops.
 * Its media resources are freed earlier on `session/releaseResources` and when the app goes
 * Inactive.
 */
class ClientSessions implements ClientGateway, ClientsContext {
  readonly logger: SessionServerLogger;
  readonly resources: Resources;
  readonly pipelines: PipelineBook;
  readonly keys = new MediaKeysBook();
  readonly webAudio: WebAudioBook;
  readonly shmMsgTimeoutMs: number;
  readonly shmMaxConcurrentInvocations: number;
  applicationState: ApplicationState;
  readonly #options: ClientSessionsOptions;
  readonly #server: RetryServer<ClientState>;
  readonly #heartbeats = new ClientHeartbeats();
  #lastRefusalWarning = Number.NEGATIVE_INFINITY;
  /** With test methods: the media clock `test/stallRenderLoop` wedges. */
  readonly #testClock: FreezableClock | undefined;
  #listener: ClientListener | undefined;

  constructor(options: ClientSessionsOptions) {
    const environment = options.environment ?? readRpcEnvironment();
    this.#options = options;
    this.logger = options.logger;
    this.resources = options.resources;
    this.applicationState = options.applicationState;
    const testMethods = options.testMethods ?? process.env.RIALTO_ENABLE_TEST_METHODS === "1";
    this.#testClock = testMethods ? new FreezableClock() : undefined;
    this.pipelines = new PipelineBook({
      clock: this.#testClock,
      logger: options.logger,
      maxPlaybackSessions: options.resources.maxPlaybackSessions,
      playback: options.playback,
      avMemory: () => this.avMemory(),
      decrypt: createFrameDecryptor(this.keys),
    });
    this.webAudio = new WebAudioBook({
      clock: this.#testClock,
      logger: options.logger,
      resources: options.resources,
      playback: options.playback ?? DEFAULT_PLAYBACK_OPTIONS,
    });
    this.shmMsgTimeoutMs = environment.shmMsgTimeoutMs;
    this.shmMaxConcurrentInvocations = environment.shmMaxConcurrentInvocations;
    this.#server = new RetryServer<ClientState>({
      name: "session-server/clients",
      router: this.#createRouter(testMethods),
      createSession: () => {
        // Counted once this returns: told after that.
        if (options.onClientsChanged !== undefined) queueMicrotask(options.onClientsChanged);
        return new ClientState();
      },
      releaseSession: (client, reason) => {
        this.releaseClientResources(client);
        client.session.close();
        this.logger.info({ clientId: client.id, reason }, "client released");
        if (options.onClientsChanged !== undefined) queueMicrotask(options.onClientsChanged);
      },
      graceMs: options.clientGracePeriodMs ?? environment.clientGraceMs,
      replyTtlMs: options.replyTtlMs,
      limits: options.connectionLimits ?? readConnectionLimits(),
      onError: (error, client) =>
        this.logger.debug({ err: error, clientId: client?.id }, "client sent something malformed"),
    });
  }

  get connectionCount(): number {
    return this.#server.connectionCount;
  }

  start(listener: ClientListener): void {
    if (this.#listener !== undefined) {
      throw new RialtoError("INVALID_STATE", "client sessions already started");
    }
    this.#listener = listener;
    listener.onConnection((transport) => this.#accept(transport));
  }

  avMemory(): AvMemory | undefined {
    return this.#options.avMemory();
  }

  claimSideChannel(token: Uint8Array): FdChannel | undefined {
    return this.#listener?.claimSideChannel(token);
  }

  setApplicationState(state: ApplicationState): void {
    this.applicationState = state;
    this.pipelines.setApplicationRunning(state === "Running");
    this.#server.broadcast(SessionEvents.applicationState, { state });
  }

  releaseClientResources(client: Client): void {
    const pipelines = this.pipelines.releaseClient(client);
    const { mediaKeys, keySessions } = this.keys.releaseClient(client.id);
    const webAudioPlayers = this.webAudio.releaseClient(client.id);
    client.session.holdsSharedMemory = false;
    if (pipelines + mediaKeys + webAudioPlayers > 0) {
      const remaining = {
        pipelines: this.pipelines.size,
        keySessions: this.keys.keySessionCount,
        webAudioPlayers: this.webAudio.inUse,
      };
      this.logger.info(
        { clientId: client.id, pipelines, mediaKeys, keySessions, webAudioPlayers, remaining },
        "client resources released",
      );
    }
  }

  stats(): Omit<StatsEvent, "avMemoryBytes"> {
    const server = this.#server.stats();
    let rpcCalls = 0;
    let rpcRetransmits = 0;
    let totalMs = 0;
    for (const client of server.perClient) {
      rpcCalls += client.attempted;
      rpcRetransmits += client.retried;
      for (const method of Object.values(client.methods)) totalMs += method.meanMs * method.count;
    }
    return {
      clients: server.clients,
      rpcCalls,
      rpcRetransmits,
      rpcReconnects: server.reconnects,
      rpcMeanMs: rpcCalls === 0 ? 0 : Math.round((totalMs / rpcCalls) * 1000) / 1000,
      pipelines: this.pipelines.reports(),
    };
  }

  heartbeatAcknowledged(client: Client, id: number): void {
    this.#heartbeats.acknowledge(client, id);
  }

  heartbeat(deadlineMs: number): Promise<HeartbeatOutcome> {
    const pipelines = this.pipelines.heartbeats().map(({ pipelineId, beat }) => ({
      name: `pipeline ${pipelineId}`,
      beat,
      counts: true,
    }));
    const players = this.webAudio.heartbeats().map(({ playerId, beat }) => ({
      name: `web-audio player ${playerId}`,
      beat,
      counts: true,
    }));
    const clients =
      this.applicationState === "Running"
        ? [...this.#server.clients.values()]
            .filter((client) => client.connected)
            .map((client) => ({
              name: `client ${client.id}`,
              beat: () => this.#heartbeats.beat(client, deadlineMs),
              counts: false,
            }))
        : [];
    return runHeartbeat([...pipelines, ...players, ...clients], deadlineMs);
  }

  releaseAllResources(): void {
    for (const client of this.#server.clients.values()) this.releaseClientResources(client);
  }

  closeAll(): void {
    this.#server.releaseAll("closed");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.pipelines.closeAll();
    this.#server.close();
  }

  #createRouter(testMethods: boolean): ClientRouter {
    const router = new MethodRouter<Client>();
    addSessionHandlers(router, this);
    addPipelineHandlers(router, this);
    addPipelinePlaybackHandlers(router, this);
    addPipelineControlHandlers(router, this);
    addMediaKeysHandlers(router, this);
    addWebAudioHandlers(router, this);
    addShmPoolHandlers(router, this);
    if (testMethods) {
      router
        .handle(TestMethods.echo, ({ text }) => ({ text }))
        .handle(TestMethods.blob, ({ bytes }) => ({ text: "x".repeat(bytes) }))
        .handle(TestMethods.emitTicks, ({ count }, client) => {
          for (let n = 1; n <= count; n++) client.emit(TestMethods.tick, { n });
          return {};
        })
        .handle(TestMethods.sleep, async ({ ms }) => {
          await Bun.sleep(ms);
          return { ms };
        })
        .handle(TestMethods.stallRenderLoop, () => {
          this.#testClock?.freeze();
          return {};
        });
    }
    return router;
  }

  #accept(transport: SocketTransport): void {
    const denied = this.#checkPeer(transport);
    if (denied !== undefined) {
      // At most one warning a second: refusals cost a connect each, log lines must not.
      const now = performance.now();
      const level = now - this.#lastRefusalWarning >= 1000 ? "warn" : "debug";
      if (level === "warn") this.#lastRefusalWarning = now;
      this.logger[level]({ reason: denied.message }, "client connection refused");
      transport.start({ data() {}, close() {} });
      transport.write(encodeJsonFrame(FrameType.Notice, { error: denied.toWire() }));
      // Closed a moment later: a connection closed in the same turn it was accepted can make
      // the client's connect fail before it reads why ("Failed to connect").
      setTimeout(() => transport.close(denied), REFUSAL_LINGER_MS).unref();
      return;
    }
    this.#server.accept(transport);
  }

  /** The reason to refuse this connection, if `allowedUids` excludes its peer. */
  #checkPeer(transport: SocketTransport): RialtoError | undefined {
    const allowed = this.#options.allowedUids;
    if (allowed === undefined) return undefined;
    let uid: number;
    try {
      uid = (this.#options.peerUid ?? ((fd) => socketPeerCredentials(fd).uid))(transport.fd);
    } catch (error) {
      return new RialtoError(
        "PERMISSION_DENIED",
        `cannot check the client's uid: ${toRialtoError(error).message}`,
      );
    }
    if (allowed.includes(uid)) return undefined;
    return new RialtoError(
      "PERMISSION_DENIED",
      `uid ${uid} may not connect to this app's session server`,
    );
  }
}
