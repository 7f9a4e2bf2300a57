import { RialtoError, WebAudioMethods } from "@rialto/protocol";
import type { Client, ClientRouter, ClientsContext } from "./clients-context.ts";
import { requireRunning } from "./pipeline-handlers.ts";

/**
 * The `webAudio/*` methods (SPEC 9, Rialto's WebAudioPlayer service) over the app's
 * WebAudioBook (`context.webAudio`). Every call needs the app Running (INVALID_STATE
 * otherwise) and a player this client created (NOT_FOUND otherwise). `webAudio/create` is
 * PERMISSION_DENIED when the app's resources say `supportsWebAudio: false` and
 * RESOURCE_EXHAUSTED past `maxWebAudioPlayers`. `webAudio/state` events go to the owning client.
 */
export function addWebAudioHandlers(router: ClientRouter, context: ClientsContext): ClientRouter {
  /** The client's player, once the app is known to be Running. */
  const playerFor = (method: string, playerId: number, client: Client) => {
    requireRunning(context, method);
    return context.webAudio.player(client, playerId, method);
  };
  return router
    .handle(WebAudioMethods.create, (params, client) => {
      const method = WebAudioMethods.create.name;
      requireRunning(context, method);
      const memory = context.avMemory();
      if (memory === undefined) {
        throw new RialtoError("INVALID_STATE", `"${method}": the app has no AV shared memory`);
      }
      const created = context.webAudio.create(client, params, memory);
      context.logger.info(
        { clientId: client.id, playerId: created.playerId, pcm: params.pcm },
        "web-audio player created",
      );
      return created;
    })
    .handle(WebAudioMethods.getBufferAvailable, ({ playerId }, client) =>
      playerFor(WebAudioMethods.getBufferAvailable.name, playerId, client).getBufferAvailable(),
    )
    .handle(WebAudioMethods.writeBuffer, ({ playerId, numberOfFrames }, client) => {
      playerFor(WebAudioMethods.writeBuffer.name, playerId, client).writeBuffer(numberOfFrames);
      return {};
    })
    .handle(WebAudioMethods.play, ({ playerId }, client) => {
      playerFor(WebAudioMethods.play.name, playerId, client).play();
      return {};
    })
    .handle(WebAudioMethods.pause, ({ playerId }, client) => {
      playerFor(WebAudioMethods.pause.name, playerId, client).pause();
      return {};
    })
    .handle(WebAudioMethods.setEos, ({ playerId }, client) => {
      playerFor(WebAudioMethods.setEos.name, playerId, client).setEos();
      return {};
    })
    .handle(WebAudioMethods.getBufferDelay, ({ playerId }, client) =>
      playerFor(WebAudioMethods.getBufferDelay.name, playerId, client).getBufferDelay(),
    )
    .handle(WebAudioMethods.getDeviceInfo, ({ playerId }, client) =>
      playerFor(WebAudioMethods.getDeviceInfo.name, playerId, client).getDeviceInfo(),
    )
    .handle(WebAudioMethods.setVolume, ({ playerId, volume }, client) => {
      playerFor(WebAudioMethods.setVolume.name, playerId, client).setVolume(volume);
      return {};
    })
    .handle(WebAudioMethods.getVolume, ({ playerId }, client) => ({
      volume: playerFor(WebAudioMethods.getVolume.name, playerId, client).getVolume(),
    }))
    .handle(WebAudioMethods.destroy, ({ playerId }, client) => {
      requireRunning(context, WebAudioMethods.destroy.name);
      context.webAudio.destroy(client, playerId);
      context.logger.info({ clientId: client.id, playerId }, "web-audio player destroyed");
      return {};
    });
}
