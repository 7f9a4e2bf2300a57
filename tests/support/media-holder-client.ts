// A client process for cleanup tests: connects to the session server at argv[2], takes a
// licensed ClearKey key session and a web-audio player, prints one JSON line with their ids,
// then holds them until it is killed (a client that vanishes without releasing anything).
import { RialtoClient } from "@rialto/client";
import keyFile from "../../apps/demo-app/media/encrypted/key.json";
import { HOLDER_PLAYER } from "./media-holder.ts";

/** The first line the holder prints. */
export interface HeldResources {
  readonly clientId: number;
  readonly mediaKeysId: number;
  readonly keySessionId: number;
  readonly playerId: number;
}

const socketPath = process.argv[2];
const client = await RialtoClient.connect({ socketPath });
await client.setApplicationState("Running");
const mediaKeys = await client.createMediaKeys("org.w3.clearkey");
const keySessionId = await mediaKeys.createKeySession();
await mediaKeys.generateRequest(keySessionId, "cenc", Uint8Array.fromBase64(keyFile.cencInitData));
await mediaKeys.updateSession(keySessionId, JSON.stringify(keyFile.license));
const player = await client.createWebAudioPlayer(HOLDER_PLAYER);
const held: HeldResources = {
  clientId: client.clientId ?? 0,
  mediaKeysId: mediaKeys.id,
  keySessionId,
  playerId: player.id,
};
console.log(JSON.stringify(held));
// Hold everything until killed.
setInterval(() => {}, 60_000);
