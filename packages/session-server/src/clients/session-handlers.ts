import {
  assertCompatibleVersion,
  encodeFdTag,
  PROTOCOL_VERSION,
  RialtoError,
  SessionEvents,
  SessionMethods,
  toRialtoError,
} from "@rialto/protocol";
import type { FdChannel } from "@rialto/shm";
import type { ClientRouter, ClientsContext } from "./clients-context.ts";

/**
 * The `session/*` methods: register (the retry server has already resolved the client id),
 * ping, getSharedMemory (the memfd goes over the client's fd side channel) and
 * releaseResources (the client going Inactive).
 */
export function addSessionHandlers(router: ClientRouter, context: ClientsContext): ClientRouter {
  return router
    .handle(SessionMethods.register, (params, client) => {
      assertCompatibleVersion(params.protocolVersion);
      if (params.fdToken !== undefined) {
        client.session.replaceSideChannel(claimSideChannel(context, params.fdToken));
      }
      const fresh = params.clientId === undefined;
      // A fresh client learns the state from its first event; a returning one from the replay.
      if (fresh) client.emit(SessionEvents.applicationState, { state: context.applicationState });
      context.logger.info({ clientId: client.id, fresh }, "client registered");
      return {
        clientId: client.id,
        applicationState: context.applicationState,
        protocolVersion: PROTOCOL_VERSION,
        resources: context.resources,
      };
    })
    .handle(SessionMethods.ping, ({ value }) => ({ value }))
    .handle(SessionMethods.getSharedMemory, (_params, client) => {
      const memory = context.avMemory();
      if (memory === undefined) {
        throw new RialtoError(
          "INVALID_STATE",
          `"${SessionMethods.getSharedMemory.name}": shared memory exists only while the app is Running (it is ${context.applicationState})`,
        );
      }
      const channel = client.session.fdChannel;
      if (channel === undefined) {
        throw new RialtoError(
          "INVALID_STATE",
          `"${SessionMethods.getSharedMemory.name}": client ${client.id} registered without an fdToken, so no fd can be sent`,
        );
      }
      const fdTag = client.session.nextFdTag();
      try {
        // The record is queued before the reply leaves, so the client finds it on receipt.
        channel.sendFds([memory.fd], encodeFdTag(fdTag));
      } catch (error) {
        throw new RialtoError(
          "CONNECTION_LOST",
          `"${SessionMethods.getSharedMemory.name}": cannot send the memfd to client ${client.id}: ${toRialtoError(error).message}`,
          { cause: error },
        );
      }
      client.session.holdsSharedMemory = true;
      return memory.describe(fdTag);
    })
    .handle(SessionMethods.releaseResources, (_params, client) => {
      context.releaseClientResources(client);
      return {};
    })
    .handle(SessionMethods.heartbeatAck, ({ id }, client) => {
      context.heartbeatAcknowledged(client, id);
      return {};
    });
}

function claimSideChannel(context: ClientsContext, token: string): FdChannel {
  const bytes = Uint8Array.fromHex(token);
  let channel: FdChannel | undefined;
  try {
    channel = context.claimSideChannel(bytes);
  } catch (error) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `"${SessionMethods.register.name}": fdToken of ${bytes.byteLength} bytes: ${toRialtoError(error).message}`,
      { cause: error },
    );
  }
  if (channel === undefined) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `"${SessionMethods.register.name}": no side-channel connection presented fdToken ${token.slice(0, 16)}...`,
    );
  }
  return channel;
}
