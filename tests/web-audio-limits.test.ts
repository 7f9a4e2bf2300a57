import { describe, expect, it, setDefaultTimeout } from "bun:test";
import type { CreateWebAudioPlayerParams } from "@rialto/protocol";
import { WebAudioMethods } from "@rialto/protocol";
import { TestApp } from "./support/rialto-app.ts";
import { eventually } from "./support/wait.ts";

setDefaultTimeout(30_000);

const MONO: CreateWebAudioPlayerParams = {
  mimeType: "audio/x-raw",
  pcm: {
    rate: 16_000,
    channels: 1,
    sampleSize: 16,
    isBigEndian: false,
    isSigned: true,
    isFloat: false,
  },
};

/** An app with web audio for `players` players, started by the real server manager. */
function givenWebAudioApp(players: number, state: "Active" | "Inactive" = "Active") {
  return TestApp.start({
    state,
    config: { resources: { supportsWebAudio: true, maxWebAudioPlayers: players } },
  });
}

describe("web-audio players: limits and cleanup through the real server manager", () => {
  it("refuses the player past maxWebAudioPlayers over every client with RESOURCE_EXHAUSTED", async () => {
    // Step 1: two player slots, taken by two clients; each got its own partition.
    await using app = await givenWebAudioApp(2);
    const a = await app.connect();
    const b = await app.connect();
    const first = await a.createWebAudioPlayer(MONO);
    const second = await b.createWebAudioPlayer(MONO);
    expect(second.region.offset).toBe(first.region.offset + first.region.length);

    // Step 2: a third is refused, until one is destroyed.
    await expect(a.createWebAudioPlayer(MONO)).rejects.toMatchObject({
      code: "RESOURCE_EXHAUSTED",
      details: { maxWebAudioPlayers: 2 },
    });
    await first.destroy();
    expect(first.lifecycle).toBe("destroyed");
    expect((await a.createWebAudioPlayer(MONO)).region).toEqual(first.region);
  });

  it("refuses web audio with PERMISSION_DENIED when the app's resources do not support it", async () => {
    await using app = await TestApp.start();
    const client = await app.connect();
    expect(client.resources?.supportsWebAudio).toBe(false);
    await expect(client.createWebAudioPlayer(MONO)).rejects.toMatchObject({
      code: "PERMISSION_DENIED",
    });
  });

  it("refuses web audio with INVALID_STATE while Inactive; once Active the client maps the memory by itself and writes go through", async () => {
    await using app = await givenWebAudioApp(1, "Inactive");
    const client = await app.connect();
    await expect(client.createWebAudioPlayer(MONO)).rejects.toMatchObject({
      code: "INVALID_STATE",
      message: '"webAudio/create": media calls need the app Running (it is Inactive)',
    });
    await app.setState("Active");
    await eventually(() => client.applicationState === "Running", "Running");
    // No setApplicationState("Running"): the client maps the AV memory when the server says so.
    const player = await client.createWebAudioPlayer(MONO);
    expect(client.sharedMemory).toBeDefined();
    await player.writeBuffer(new Uint8Array(2));
    expect(await player.getBufferAvailable()).toBeGreaterThan(0);
  });

  it("releases every player when the app goes Inactive: the slots are free once Active again", async () => {
    // Step 1: both slots taken, one player playing.
    await using app = await givenWebAudioApp(2);
    const client = await app.connect();
    await client.setApplicationState("Running");
    const playing = await client.createWebAudioPlayer(MONO);
    const idle = await client.createWebAudioPlayer(MONO);
    await playing.writeBuffer(new Uint8Array(2000));
    await playing.play();

    // Step 2: Inactive: the client learns both are gone; calls are INVALID_STATE.
    await app.setState("Inactive");
    await eventually(
      () => playing.lifecycle === "released" && idle.lifecycle === "released",
      "both players released",
    );
    await expect(
      client.call(WebAudioMethods.getBufferDelay, { playerId: playing.id }),
    ).rejects.toMatchObject({ code: "INVALID_STATE" });

    // Step 3: Active again: the old ids are unknown and both slots can be taken anew.
    await app.setState("Active");
    await eventually(() => client.applicationState === "Running", "Running");
    await expect(
      client.call(WebAudioMethods.getBufferDelay, { playerId: playing.id }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    await client.createWebAudioPlayer(MONO);
    await client.createWebAudioPlayer(MONO);
  });

  it("releases a client's players when it goes Inactive itself", async () => {
    await using app = await givenWebAudioApp(1);
    const a = await app.connect();
    const b = await app.connect();
    const player = await a.createWebAudioPlayer(MONO);
    await a.setApplicationState("Inactive");
    expect(player.lifecycle).toBe("released");
    await b.createWebAudioPlayer(MONO);
  });
});
