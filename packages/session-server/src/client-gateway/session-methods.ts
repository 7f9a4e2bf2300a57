import {
  type ApplicationState,
  assertCompatibleVersion,
  encodeFdTag,
  MethodRouter,
  PROTOCOL_VERSION,
  type Resources,
  RialtoError,
  SessionEvents,
  SessionMethods,
  toRialtoError,
} from "@rialto/protocol";
import type { FdChannel } from "@rialto/shm";
import type { Logger } from "pino";
import type { AvMemory } from "../av-memory.ts";
import type { ClientPeer, ClientSession } from "./client-session.ts";

/** What the session methods need from the gateway that serves them. */
export interface GatewayContext {
  readonly logger: Logger;
  readonly resources: Resources;
  readonly applicationState: ApplicationState;
  avMemory(): AvMemory | undefined;
  allocateClientId(): number;
  claimSideChannel(token: Uint8Array): FdChannel | undefined;
}

/**
 * The `session/*` methods of the minimal gateway: register, ping, getSharedMemory,
 * releaseResources. One router serves every connection; each call sees its connection's peer.
 */
export function createSessionRouter(gateway: GatewayContext): MethodRouter<ClientPeer> {
  return new MethodRouter<ClientPeer>()
    .handle(SessionMethods.register, (params, peer) => {
      const session = peer.data;
      if (session.clientId !== undefined) {
        throw new RialtoError(
          "INVALID_STATE",
          `"session/register": this connection is already registered as client ${session.clientId}`,
        );
      }
      assertCompatibleVersion(params.protocolVersion);
      if (params.clientId !== undefined) {
        // Client state is dropped when its connection closes, so any earlier id is unknown.
        throw new RialtoError(
          "UNKNOWN_CLIENT",
          `"session/register": client id ${params.clientId} is unknown; register without it`,
        );
      }
      if (params.fdToken !== undefined)
        session.fdChannel = claimSideChannel(gateway, params.fdToken);
      session.clientId = gateway.allocateClientId();
      const applicationState = gateway.applicationState;
      // The reply goes out synchronously when this handler returns; the first state push follows it.
      queueMicrotask(() =>
        peer.emit(SessionEvents.applicationState, { state: gateway.applicationState }),
      );
      gateway.logger.info({ clientId: session.clientId }, "client registered");
      return {
        clientId: session.clientId,
        applicationState,
        protocolVersion: PROTOCOL_VERSION,
        resources: gateway.resources,
      };
    })
    .handle(SessionMethods.ping, ({ value }) => ({ value }))
    .handle(SessionMethods.getSharedMemory, (_params, peer) => {
      const session = registered(peer.data, "session/getSharedMemory");
      const memory = gateway.avMemory();
      if (memory === undefined) {
        throw new RialtoError(
          "INVALID_STATE",
          `"session/getSharedMemory": shared memory exists only while the app is Running (it is ${gateway.applicationState})`,
        );
      }
      const channel = session.fdChannel;
      if (channel === undefined) {
        throw new RialtoError(
          "INVALID_STATE",
          `"session/getSharedMemory": client ${session.clientId} registered without an fdToken, so no fd can be sent`,
        );
      }
      const fdTag = session.nextFdTag();
      try {
        // The record is queued before the reply leaves, so the client finds it on receipt.
        channel.sendFds([memory.fd], encodeFdTag(fdTag));
      } catch (error) {
        throw new RialtoError(
          "CONNECTION_LOST",
          `"session/getSharedMemory": cannot send the memfd to client ${session.clientId}: ${toRialtoError(error).message}`,
          { cause: error },
        );
      }
      session.holdsSharedMemory = true;
      return memory.describe(fdTag);
    })
    .handle(SessionMethods.releaseResources, (_params, peer) => {
      const session = registered(peer.data, "session/releaseResources");
      session.holdsSharedMemory = false;
      return {};
    });
}

function registered(session: ClientSession, method: string): ClientSession {
  if (session.clientId === undefined) {
    throw new RialtoError("INVALID_STATE", `"${method}": call "session/register" first`);
  }
  return session;
}

function claimSideChannel(gateway: GatewayContext, token: string): FdChannel {
  const bytes = Uint8Array.fromHex(token);
  let channel: FdChannel | undefined;
  try {
    channel = gateway.claimSideChannel(bytes);
  } catch (error) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `"session/register": fdToken of ${bytes.byteLength} bytes: ${toRialtoError(error).message}`,
      { cause: error },
    );
  }
  if (channel === undefined) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `"session/register": no side-channel connection presented fdToken ${token.slice(0, 16)}...`,
    );
  }
  return channel;
}
