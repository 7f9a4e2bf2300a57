import type {
  ApplicationState,
  ConnectionLimits,
  PlaybackOptions,
  Resources,
  StatsEvent,
} from "@rialto/protocol";
import type { AvMemory } from "../av-memory.ts";
import type { ClientListener } from "../client-listener.ts";
import type { HeartbeatOutcome } from "../clients/heartbeat.ts";
import type { SessionServerLogger } from "../logger.ts";

/**
 * Everything that owns per-client resources and must give them back when the app goes Inactive
 * (SPEC 3, step 3): the client gateway now; pipelines, key sessions and web-audio players later.
 */
export interface ResourceOwner {
  /** Frees every resource this owner holds for every client. */
  releaseAllResources(): Promise<void> | void;
}

/**
 * The session server's side of its clients: accepts connections on the client listener, serves
 * the `session/*` methods and pushes `session/applicationState`. The session server drives it
 * through this interface only; the retry-RPC client sessions of `src/clients/` implement it.
 */
export interface ClientGateway extends ResourceOwner, AsyncDisposable {
  /** Starts serving the connections `listener` accepts. Called once. */
  start(listener: ClientListener): void;
  /** Records the app's application state and pushes it to every registered client. */
  setApplicationState(state: ApplicationState): void;
  /** Closes every client connection (and its fd side channel). New connections are still served. */
  closeAll(): void;
  /** Number of open client connections. */
  readonly connectionCount: number;
  /**
   * The clients' and pipelines' part of the `control/stats` report; a gateway without it
   * reports nothing.
   */
  stats?(): Omit<StatsEvent, "avMemoryBytes">;
  /**
   * The health check's fan-out (SPEC 3 sequence 5): beats every pipeline's render loop and every
   * Running client, and resolves once all answered or `deadlineMs` passed. Optional: without it
   * the session server answers pings at once.
   */
  heartbeat?(deadlineMs: number): Promise<HeartbeatOutcome>;
}

/** What a {@link ClientGateway} needs from the session server (built from SetConfiguration). */
export interface ClientGatewayOptions {
  logger: SessionServerLogger;
  /** The app's resource limits (returned by `session/register`). */
  resources: Resources;
  /** The app's renderer clock and sink (SetConfiguration's `playback`). */
  playback?: PlaybackOptions;
  /**
   * How long a disconnected client's state is kept for a reconnect, ms (SetConfiguration's
   * `clientGracePeriodMs`; undefined: `RIALTO_CLIENT_GRACE_MS`, else 30000).
   */
  clientGracePeriodMs?: number;
  /** The application state until the first {@link ClientGateway.setApplicationState}. */
  applicationState: ApplicationState;
  /** The AV shared memory while the app is Active, `undefined` otherwise. */
  avMemory(): AvMemory | undefined;
  /** When set, only clients whose SO_PEERCRED uid is listed may connect. */
  allowedUids?: readonly number[];
  /**
   * What one client connection may cost (connection and client caps, registration and frame
   * deadlines, failed resumes); default `readConnectionLimits()` of the environment.
   */
  connectionLimits?: ConnectionLimits;
  /**
   * Reads the peer uid of a connected Unix socket fd (SO_PEERCRED); needed with `allowedUids`.
   * An OS boundary, hence injectable.
   */
  peerUid?: (fd: number) => number;
  /**
   * A client registered or was released (after the change is counted): the session server
   * reports its counters to the manager at once, which decides on them (parking an Inactive app
   * with no client).
   */
  onClientsChanged?: () => void;
}

/** Builds the client gateway when the session server is configured. */
export type CreateClientGateway = (options: ClientGatewayOptions) => ClientGateway;
