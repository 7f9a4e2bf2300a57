import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { MediaKeysMethods } from "@rialto/protocol";
import keyFile from "../apps/demo-app/media/encrypted/key.json";
import { LoggedSessionServer } from "./support/logged-session-server.ts";
import { HOLDER_PLAYER, startMediaHolder } from "./support/media-holder.ts";

setDefaultTimeout(30_000);

describe("key sessions are per-client resources of the session server", () => {
  it("are all released when the app goes Inactive; their ids are unknown once Active again", async () => {
    // Step 1: a client with a MediaKeys holding a licensed key session and an unused one.
    await using server = await LoggedSessionServer.start();
    const client = await server.connect();
    const mediaKeys = await client.createMediaKeys("org.w3.clearkey");
    const licensed = await mediaKeys.createKeySession();
    await mediaKeys.generateRequest(licensed, "cenc", Uint8Array.fromBase64(keyFile.cencInitData));
    await mediaKeys.updateSession(licensed, JSON.stringify(keyFile.license));
    const unused = await mediaKeys.createKeySession();

    // Step 2: Inactive: the server frees both sessions and counts none left.
    await server.setState("Inactive");
    const released = await server.logLine("client resources released");
    expect(released).toMatchObject({
      clientId: client.clientId,
      mediaKeys: 1,
      keySessions: 2,
      remaining: { keySessions: 0 },
    });

    // Step 3: Active again: neither the MediaKeys nor its sessions exist any more.
    await server.setState("Active");
    for (const keySessionId of [licensed, unused]) {
      await expect(
        client.call(MediaKeysMethods.removeKeySession, { keySessionId }),
      ).rejects.toMatchObject({ code: "NOT_FOUND" });
    }
    await expect(
      client.call(MediaKeysMethods.destroy, { mediaKeysId: mediaKeys.id }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("of a client that vanished are released with its web-audio player once its grace period ends", async () => {
    // Step 1: a web-audio app with one player slot and a 2 s grace period; a client process
    // takes a licensed key session and the player.
    await using server = await LoggedSessionServer.start({
      resources: { maxPlaybackSessions: 1, supportsWebAudio: true, maxWebAudioPlayers: 1 },
      clientGracePeriodMs: 2000,
    });
    await using holder = await startMediaHolder(server.socketPath);
    const other = await server.connect();

    // Step 2: the holder is killed; during its grace period its player still holds the slot.
    await holder.kill();
    await expect(other.createWebAudioPlayer(HOLDER_PLAYER)).rejects.toMatchObject({
      code: "RESOURCE_EXHAUSTED",
    });

    // Step 3: the grace period ends: its key session and player are freed, none are left.
    expect(await server.logLine("client resources released")).toMatchObject({
      clientId: holder.held.clientId,
      mediaKeys: 1,
      keySessions: 1,
      webAudioPlayers: 1,
      remaining: { keySessions: 0, webAudioPlayers: 0 },
    });
    expect(await server.logLine("client released")).toMatchObject({
      clientId: holder.held.clientId,
      reason: "grace",
    });

    // Step 4: the player slot is free again for another client.
    const player = await other.createWebAudioPlayer(HOLDER_PLAYER);
    expect(player.region.length).toBe(10 * 1024);
  });
});
