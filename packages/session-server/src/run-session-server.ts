import {
  ControlChannelMethods,
  connectUnix,
  type LogLevel,
  openFdStream,
  PROTOCOL_VERSION,
  RialtoError,
  RpcPeer,
  type Transport,
  toRialtoError,
} from "@rialto/protocol";
import type { AllocateSharedMemory } from "./av-memory.ts";
import { CONTROL_CHANNEL_FD, type ControlEndpoint } from "./cli-arguments.ts";
import type { CreateClientGateway, ResourceOwner } from "./client-gateway/index.ts";
import { SessionServerExitCode } from "./exit-codes.ts";
import { createSessionServerLogger, type SessionServerLogger } from "./logger.ts";
import { prepareToReceiveSockets, receivePassedSockets } from "./passed-sockets.ts";
import { SessionServer } from "./session-server.ts";

/** Default deadline of `control/announce` in joined mode, ms. */
export const ANNOUNCE_TIMEOUT_MS = 3000;

/** Options of {@link runSessionServer}. */
export interface RunSessionServerOptions {
  /**
   * The control channel: an inherited fd (default fd 3), the daemon's control socket (joined
   * mode), or a ready transport (tests running the session server in-process).
   */
  control?: ControlEndpoint | { kind: "transport"; transport: Transport };
  /** Log level until SetConfiguration sets one; default `"info"`. */
  logLevel?: LogLevel;
  /** The logger; default pino JSON lines on stderr with `pid` (and `appId`) bound. */
  logger?: SessionServerLogger;
  /** Creates the AV memfd; default a sealed memfd (tests inject failures here). */
  allocateSharedMemory?: AllocateSharedMemory;
  /** Owners of media resources freed on Inactive (the media code registers here). */
  resourceOwners?: readonly ResourceOwner[];
  /** Builds the client gateway on SetConfiguration; default the app's client sessions over retry-RPC. */
  createClientGateway?: CreateClientGateway;
}

/** A started session server. */
export interface RunningSessionServer extends AsyncDisposable {
  readonly server: SessionServer;
  readonly logger: SessionServerLogger;
  /** Resolves with the exit code once the session server stopped and cleaned up. */
  readonly exitCode: Promise<number>;
  /** Cleans up and stops without reporting a state (signals); resolves with the exit code. */
  stop(code: number, reason: string): Promise<number>;
}

/**
 * Starts a session server on its control channel: wraps the channel in an RpcPeer served by
 * the {@link SessionServer}; in joined mode calls `control/announce` first; then reports
 * `Uninitialised`. A broken control channel stops it with exit code 3. It never calls
 * `process.exit`: the caller (main) exits with {@link RunningSessionServer.exitCode}.
 * Rejects (before reporting anything) when the channel cannot be opened or the announce fails.
 */
export async function runSessionServer(
  options: RunSessionServerOptions = {},
): Promise<RunningSessionServer> {
  const control = options.control ?? { kind: "fd", fd: CONTROL_CHANNEL_FD };
  const appId = control.kind === "joined" ? control.appId : undefined;
  const logger = options.logger ?? createSessionServerLogger({ level: options.logLevel, appId });
  const server = new SessionServer({
    logger,
    appId,
    allocateSharedMemory: options.allocateSharedMemory,
    resourceOwners: options.resourceOwners,
    createClientGateway: options.createClientGateway,
    // Only a spawned session server has the manager's fd channel beside its control channel.
    receivePassedSockets: control.kind === "fd" ? () => receivePassedSockets() : undefined,
    releaseCodePagesWhenIdle: control.kind !== "transport",
  });
  const peer = new RpcPeer({
    name: "session-server/control",
    router: server.router,
    onError: (error) =>
      logger.warn({ err: error }, "control channel peer sent something malformed"),
    onTransportClose: (cause) => {
      const reason = `control channel closed${cause === undefined ? "" : `: ${cause.message}`}`;
      logger.error({ reason }, "lost the server manager");
      void server.stop(SessionServerExitCode.ControlChannelLost, reason);
    },
  });
  peer.attach(await openControlTransport(control));
  if (control.kind === "joined") {
    try {
      await peer.call(
        ControlChannelMethods.announce,
        { appId: control.appId, pid: process.pid, protocolVersion: PROTOCOL_VERSION },
        { timeoutMs: ANNOUNCE_TIMEOUT_MS },
      );
    } catch (error) {
      peer.close();
      const cause = toRialtoError(error);
      throw new RialtoError(
        cause.code,
        `the daemon at ${control.socketPath} refused app "${control.appId}": ${cause.message}`,
        { cause },
      );
    }
    logger.info({ controlSocket: control.socketPath }, "joined the server manager");
  }
  server.attachControl(peer);
  if (control.kind === "fd") prepareToReceiveSockets();
  const stop = async (code: number, reason: string) => {
    await server.stop(code, reason);
    return server.exitCode;
  };
  return {
    server,
    logger,
    exitCode: server.exitCode,
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop(SessionServerExitCode.Terminated, "disposed");
    },
  };
}

async function openControlTransport(
  control: NonNullable<RunSessionServerOptions["control"]>,
): Promise<Transport> {
  switch (control.kind) {
    case "transport":
      return control.transport;
    case "fd":
      // Not a Bun socket: Bun wakes a process with a connected socket every second.
      return openFdStream(control.fd);
    case "joined":
      return connectUnix(control.socketPath);
  }
}
