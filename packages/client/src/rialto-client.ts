import {
  type AnyEvent,
  type AnyMethod,
  type ApplicationState,
  assertCompatibleVersion,
  type CallOptions,
  type CreatePipelineParams,
  type CreateWebAudioPlayerParams,
  connectUnix,
  MediaKeysMethods,
  type ParamsOf,
  type PayloadOf,
  PipelineMethods,
  PROTOCOL_VERSION,
  type RegisterResult,
  type Resources,
  type ResultOf,
  RetryClient,
  type RetryClientStats,
  RialtoError,
  SessionEvents,
  SessionMethods,
  type SharedMemoryInfo,
  ShmPoolMethods,
  type SourceType,
  toRialtoError,
} from "@rialto/protocol";
import { SharedMemory, ShmPool } from "@rialto/shm";
import { type RialtoClientOptions, resolveClientOptions } from "./client-options.ts";
import { connectWhenListening } from "./connect-when-listening.ts";
import { MediaKeys } from "./media-keys.ts";
import { MediaPipeline } from "./media-pipeline.ts";
import { routePipelineEvents } from "./media-pipeline-events.ts";
import { PoolInvoker, type PoolStats } from "./shm-rpc/pool-invoker.ts";
import { ClientSideChannel } from "./side-channel.ts";
import { WebAudioPlayer } from "./web-audio-player.ts";

/** RPC counters of a {@link RialtoClient} (SPEC 6 `getStats()`). */
export interface ClientStats extends RetryClientStats {
  /** The shared-memory RPC path. */
  shm: PoolStats;
}

/** The app's AV shared memory while it is Running. */
export interface MappedSharedMemory {
  /** The layout the session server described (partitions per playback session and player). */
  readonly info: SharedMemoryInfo;
  /** The mapping (read-write, sealed against resizing). */
  readonly memory: SharedMemory;
}

type StateListener = (state: ApplicationState) => void;

/** Tag of the pool memfd on the side channel (one pool per registration). */
const POOL_FD_TAG = 1;

/**
 * The app's connection to its session server (SPEC 6). Connects and registers with the
 * protocol version; survives lost connections (retry-RPC: every call runs exactly once);
 * follows the application state the server pushes; maps the AV shared memory on
 * `setApplicationState("Running")`; sends large calls through a shared-memory pool.
 */
export class RialtoClient implements AsyncDisposable {
  readonly #options: ReturnType<typeof resolveClientOptions>;
  readonly #pool: ShmPool;
  readonly #pipelines = new Map<number, MediaPipeline>();
  /** MediaKeys and web-audio players, to be told when the server frees them. */
  readonly #mediaObjects = new Set<MediaKeys | WebAudioPlayer>();
  readonly #listeners = new Set<StateListener>();
  #retry!: RetryClient;
  #invoker!: PoolInvoker;
  #side: ClientSideChannel | undefined;
  /** The application state the session server last reported (Unknown while unreachable). */
  #serverState: ApplicationState = "Unknown";
  /** The app said `setApplicationState("Inactive")` and has not asked for Running since. */
  #inactiveByApp = false;
  /** The state last announced to listeners. */
  #announced: ApplicationState = "Unknown";
  #resources: Resources | undefined;
  #mapping: MappedSharedMemory | undefined;
  /** The map under way, if any (one at a time). */
  #mapping$: Promise<void> | undefined;
  /**
   * Where the connection is in its life: `new` until the first connection is up (until then a
   * missing listener is waited for, after it reconnects follow the reconnect policy),
   * `connected`, `registered` once a registration went through (a fresh one after that means
   * the server forgot us), `closed` for good.
   */
  #connection: "new" | "connected" | "registered" | "closed" = "new";

  private constructor(options: ReturnType<typeof resolveClientOptions>, pool: ShmPool) {
    this.#options = options;
    this.#pool = pool;
  }

  /**
   * Connects to the session server at `socketPath` (default `RIALTO_SOCKET_PATH`) and registers.
   * While nothing listens there yet (the session server still starting) it retries for
   * `connectRetryMs` (default 2000), then rejects CONNECTION_LOST naming the likely cause (app
   * not started, or not Inactive/Active yet). Rejects INCOMPATIBLE_VERSION on another protocol
   * major, INVALID_ARGUMENT for bad options.
   */
  static async connect(options: RialtoClientOptions = {}): Promise<RialtoClient> {
    const resolved = resolveClientOptions(options);
    let pool: ShmPool;
    try {
      pool = ShmPool.create({ size: resolved.shmPoolSize, name: "rialto-client-pool" });
    } catch (error) {
      throw toRialtoError(error);
    }
    const client = new RialtoClient(resolved, pool);
    try {
      await client.#start();
    } catch (error) {
      client.#shutDown();
      throw toRialtoError(error);
    }
    return client;
  }

  /**
   * The application state now: `Running` while the session server is Active and the app has
   * not made itself Inactive (the AV memory is then mapped, or being mapped); `Inactive` while
   * the server is Inactive, or after `setApplicationState("Inactive")` until
   * `setApplicationState("Running")`; `Unknown` before registration, while the server is
   * unreachable or not running, and after `close()`.
   */
  get applicationState(): ApplicationState {
    if (this.#serverState === "Running" && this.#inactiveByApp) return "Inactive";
    return this.#serverState;
  }

  /** The server-assigned client id. */
  get clientId(): number | undefined {
    return this.#retry.clientId;
  }

  /** The app's resource limits, as the session server reported them. */
  get resources(): Resources | undefined {
    return this.#resources;
  }

  /** The AV shared memory while mapped (after `setApplicationState("Running")`). */
  get sharedMemory(): MappedSharedMemory | undefined {
    return this.#mapping;
  }

  /** Listens for application-state changes pushed by the server. Returns an unsubscribe. */
  on(event: "applicationState", listener: StateListener): () => void {
    if (event !== "applicationState") {
      throw new RialtoError("INVALID_ARGUMENT", `RialtoClient.on: unknown event "${event}"`);
    }
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * `Running`: gets the AV shared memory (the memfd arrives over the fd side channel) and maps
   * it, unless already mapped (the client maps it by itself when the server says Running);
   * INVALID_STATE while the session server is not Active. `Inactive`: frees this client's
   * pipelines, key sessions and players and unmaps; `applicationState` reads `Inactive` from
   * then on, until `setApplicationState("Running")`.
   */
  async setApplicationState(state: "Running" | "Inactive"): Promise<void> {
    if (state === "Running") {
      // A map already under way (the server said Running) is this one.
      if (this.#mapping === undefined) await (this.#mapping$ ?? this.#map());
      this.#inactiveByApp = false;
      this.#announce();
      return;
    }
    if (state !== "Inactive") {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `setApplicationState: ${JSON.stringify(state)} is not "Running" or "Inactive"`,
      );
    }
    // A map under way (the server just said Running) lands first, then is released with the rest.
    await this.#mapping$?.catch(() => undefined);
    await this.#retry.call(SessionMethods.releaseResources, {});
    this.#inactiveByApp = true;
    this.#releaseLocally();
    this.#announce();
  }

  /** A no-op round trip: resolves with `n` (an integer within ±(2^53 - 1)). */
  async ping(n: number): Promise<number> {
    return (await this.#retry.call(SessionMethods.ping, { value: n })).value;
  }

  /**
   * Calls any client ↔ session-server method by its descriptor; params of more than the inline
   * limit (4096 bytes of JSON) travel through the shared-memory pool.
   */
  call<M extends AnyMethod>(
    method: M,
    params: ParamsOf<M>,
    options?: CallOptions,
  ): Promise<ResultOf<M>> {
    // Pool calls touch shared memory: whatever fails there reaches the app as a RialtoError.
    return this.#invoker.invoke(method, params, options).catch((error: unknown) => {
      throw toRialtoError(error);
    });
  }

  /**
   * Listens for any event the session server sends this client (delivered once each, in
   * order, across reconnects). Returns an unsubscribe.
   */
  onEvent<E extends AnyEvent>(event: E, listener: (payload: PayloadOf<E>) => void): () => void {
    return this.#retry.on(event, listener);
  }

  /**
   * The elementary-stream MIME types the session server's engine plays (Rialto's
   * `getSupportedMimeTypes`): of one source type, or of all. With the GStreamer engine, those
   * its registry has a decoder for; `NOT_FOUND` when GStreamer itself is missing.
   */
  async getSupportedMimeTypes(sourceType?: SourceType): Promise<string[]> {
    const params = sourceType === undefined ? {} : { sourceType };
    return (await this.#retry.call(PipelineMethods.getSupportedMimeTypes, params)).mimeTypes;
  }

  /**
   * Which of `propertyNames` (GStreamer-style names: `volume`, `mute`, `sync`, `immediate-output`,
   * ...) the session server's engine supports for a source type, in the order given.
   */
  async getSupportedProperties(
    sourceType: SourceType,
    propertyNames: readonly string[],
  ): Promise<string[]> {
    const params = { sourceType, propertyNames: [...propertyNames] };
    return (await this.#retry.call(PipelineMethods.getSupportedProperties, params))
      .supportedProperties;
  }

  /** Whether the session server's engine plays `mimeType` (parameters after `;` ignored). */
  async isMimeTypeSupported(mimeType: string): Promise<boolean> {
    return (await this.#retry.call(PipelineMethods.isMimeTypeSupported, { mimeType })).supported;
  }

  /**
   * Creates a media pipeline; RESOURCE_EXHAUSTED past `maxPlaybackSessions`, INVALID_STATE when
   * the AV memory is not mapped (the app is not Running).
   */
  async createMediaPipeline(requirements: CreatePipelineParams = {}): Promise<MediaPipeline> {
    await this.#mapping$?.catch(() => undefined);
    if (this.#mapping === undefined) {
      throw new RialtoError(
        "INVALID_STATE",
        `createMediaPipeline: the AV shared memory is not mapped (application state ${this.applicationState}): it is mapped when the session server says Running, or by setApplicationState("Running")`,
      );
    }
    const { pipelineId } = await this.#retry.call(PipelineMethods.create, requirements);
    const pipeline = new MediaPipeline(
      {
        destroyPipeline: async (id) => {
          await this.#retry.call(PipelineMethods.destroy, { pipelineId: id });
          this.#pipelines.delete(id);
        },
        call: (method, params) => this.call(method, params),
        avMemory: () => this.#mapping?.memory.bytes,
        applicationState: () => this.applicationState,
      },
      pipelineId,
      requirements,
    );
    this.#pipelines.set(pipelineId, pipeline);
    return pipeline;
  }

  /** The key systems the session server has (Rialto's `getSupportedKeySystems`). */
  async getSupportedKeySystems(): Promise<string[]> {
    return (await this.#retry.call(MediaKeysMethods.getSupportedKeySystems, {})).keySystems;
  }

  /** Whether the session server has `keySystem`. */
  async supportsKeySystem(keySystem: string): Promise<boolean> {
    return (await this.#retry.call(MediaKeysMethods.supportsKeySystem, { keySystem })).supported;
  }

  /** The version of `keySystem`; NOT_FOUND when the server does not have it. */
  async getSupportedKeySystemVersion(keySystem: string): Promise<string> {
    const params = { keySystem };
    return (await this.#retry.call(MediaKeysMethods.getSupportedKeySystemVersion, params)).version;
  }

  /** Whether `keySystem` takes a server certificate (ClearKey: no). */
  async isServerCertificateSupported(keySystem: string): Promise<boolean> {
    const params = { keySystem };
    return (await this.#retry.call(MediaKeysMethods.isServerCertificateSupported, params))
      .supported;
  }

  /** Creates a MediaKeys instance (`org.w3.clearkey`); NOT_FOUND for another key system. */
  async createMediaKeys(keySystem: string): Promise<MediaKeys> {
    return this.#keep(await MediaKeys.create(this, keySystem));
  }

  /**
   * Creates a web-audio PCM player; RESOURCE_EXHAUSTED past `maxWebAudioPlayers`,
   * PERMISSION_DENIED when the app's resources do not allow web audio.
   */
  async createWebAudioPlayer(params: CreateWebAudioPlayerParams): Promise<WebAudioPlayer> {
    // A map under way (the server just said Running) comes first: the player writes into it.
    await this.#mapping$?.catch(() => undefined);
    return this.#keep(await WebAudioPlayer.create(this, params));
  }

  /** RPC counters: calls, retransmits, reconnects, per-method counts and latency, pool use. */
  getStats(): ClientStats {
    return { ...this.#retry.stats(), shm: this.#invoker.stats() };
  }

  /** Fault injection: breaks the connection as a network fault would; the client recovers. */
  dropConnection(): void {
    this.#retry.dropConnection();
  }

  /**
   * Gives this client's resources back (best effort), closes the connection, the side channel,
   * the mapping and the pool. Pending calls reject with CONNECTION_LOST. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#connection === "closed") return;
    if (this.#retry.state === "connected") {
      const timeoutMs = Math.min(this.#options.timeoutMs, 1000);
      await this.#retry.call(SessionMethods.releaseResources, {}, { timeoutMs }).catch(() => {});
    }
    this.#shutDown();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #start(): Promise<void> {
    this.#invoker = new PoolInvoker({
      pool: this.#pool,
      inlineLimit: this.#options.shmInlineLimit,
      msgTimeoutMs: this.#options.shmMsgTimeoutMs,
      maxConcurrentInvocations: this.#options.shmMaxConcurrentInvocations,
      call: (method, params, options) => this.#retry.call(method, params, options),
      register: (pool) => this.#registerPool(pool),
    });
    this.#retry = await RetryClient.connect({
      name: "rialto-client",
      connect: async () => {
        if (this.#connection !== "new") return connectUnix(this.#options.socketPath);
        const transport = await connectWhenListening(
          this.#options.socketPath,
          this.#options.connectRetryMs,
        );
        this.#connection = "connected";
        return transport;
      },
      registration: async (fresh) => {
        if (!fresh) return { protocolVersion: PROTOCOL_VERSION };
        if (this.#connection === "registered") this.#forgotten();
        this.#side?.close();
        this.#side = undefined;
        this.#side = await ClientSideChannel.open(
          this.#options.socketPath,
          Math.min(this.#options.timeoutMs, 1000),
        );
        return { protocolVersion: PROTOCOL_VERSION, fdToken: this.#side.token };
      },
      timeoutMs: this.#options.timeoutMs,
      reconnect: this.#options.reconnect,
      onRegistered: (result, fresh) => this.#registered(result, fresh),
      onReconnectFailed: () => this.#setServerState("Unknown"),
      onLost: () => {
        this.#setServerState("Unknown");
        this.#releaseLocally();
      },
      subscribe: (retry) => {
        retry.on(SessionEvents.applicationState, ({ state }) => {
          // Leaving Running, the session server freed everything of ours.
          if (state !== "Running") this.#releaseLocally();
          this.#setServerState(state);
        });
        // The health check reaches every Running client (SPEC 3 sequence 5): answered at once.
        retry.on(SessionEvents.heartbeat, ({ id }) => {
          retry.call(SessionMethods.heartbeatAck, { id }).catch(() => {});
        });
      },
    });
    routePipelineEvents(this.#retry, (pipelineId) => this.#pipelines.get(pipelineId));
    // The first registration ran inside RetryClient.connect, before #retry was set.
    this.#mapWhenRunning();
  }

  #registered(result: RegisterResult, fresh: boolean): void {
    assertCompatibleVersion(result.protocolVersion);
    this.#resources = result.resources;
    if (fresh && this.#connection !== "closed") this.#connection = "registered";
    this.#setServerState(result.applicationState);
  }

  /**
   * Gets the AV shared memory (the memfd arrives over the fd side channel) and maps it, replacing
   * any earlier mapping. One map at a time.
   */
  #map(): Promise<void> {
    const mapping = (async () => {
      try {
        const info = await this.#retry.call(SessionMethods.getSharedMemory, {});
        const side = this.#requireSideChannel(SessionMethods.getSharedMemory.name);
        const fd = side.receiveFd(info.fdTag, SessionMethods.getSharedMemory.name);
        const memory = SharedMemory.fromFd(fd, { expectedSize: info.size });
        this.#unmap();
        this.#mapping = { info, memory };
      } catch (error) {
        // A broken side channel or a bad memfd is a ShmError: the app sees its RialtoError.
        throw toRialtoError(error);
      } finally {
        this.#mapping$ = undefined;
      }
    })();
    this.#mapping$ = mapping;
    return mapping;
  }

  /**
   * As Rialto's client does, the AV memory is mapped as soon as the server says Running (on
   * registration or later): no extra call is needed. A failure here is not fatal: the next
   * `setApplicationState("Running")` or media call reports it.
   */
  #mapWhenRunning(): void {
    if (this.applicationState !== "Running" || this.#mapping !== undefined) return;
    if (this.#mapping$ !== undefined) return;
    // Before RetryClient.connect returned (events of the first registration), #start maps.
    if (this.#connection === "closed" || this.#retry === undefined) return;
    this.#map().catch(() => undefined);
  }

  /**
   * The session server forgot this client (it restarted, or the grace period ran out): nothing
   * of ours survives there, and the pool must be handed over again. Runs before the fresh
   * registration, whose first events may arrive before its reply is seen.
   */
  #forgotten(): void {
    this.#setServerState("Unknown");
    this.#releaseLocally();
    this.#invoker.reset();
  }

  async #registerPool(pool: ShmPool): Promise<number> {
    this.#requireSideChannel(ShmPoolMethods.registerPool.name).sendFd(pool.fd, POOL_FD_TAG);
    const { poolId } = await this.#retry.call(ShmPoolMethods.registerPool, {
      size: pool.size,
      fdTag: POOL_FD_TAG,
    });
    return poolId;
  }

  #requireSideChannel(method: string): ClientSideChannel {
    if (this.#side === undefined) {
      throw new RialtoError("INVALID_STATE", `"${method}": the fd side channel is not open`);
    }
    return this.#side;
  }

  #setServerState(state: ApplicationState): void {
    this.#serverState = state;
    // The map starts before listeners hear Running, so a createMediaPipeline they make waits for it.
    this.#mapWhenRunning();
    this.#announce();
  }

  /** Tells the listeners when {@link applicationState} changed. */
  #announce(): void {
    const state = this.applicationState;
    if (state === this.#announced) return;
    this.#announced = state;
    for (const listener of this.#listeners) {
      try {
        listener(state);
      } catch {
        // A failing listener must not stop the others or the client.
      }
    }
  }

  /** The server freed this client's resources: forget pipelines, unmap the AV memory. */
  #releaseLocally(): void {
    for (const pipeline of this.#pipelines.values()) pipeline.markReleased();
    this.#pipelines.clear();
    for (const object of this.#mediaObjects) object.markReleased();
    this.#mediaObjects.clear();
    this.#unmap();
  }

  #keep<T extends MediaKeys | WebAudioPlayer>(object: T): T {
    for (const kept of this.#mediaObjects) {
      if (kept.lifecycle !== "created") this.#mediaObjects.delete(kept);
    }
    this.#mediaObjects.add(object);
    return object;
  }

  #unmap(): void {
    this.#mapping?.memory.close();
    this.#mapping = undefined;
  }

  #shutDown(): void {
    this.#connection = "closed";
    this.#retry?.close();
    this.#side?.close();
    this.#side = undefined;
    this.#releaseLocally();
    this.#pool.close();
    this.#serverState = "Unknown";
    this.#announced = "Unknown";
  }
}
