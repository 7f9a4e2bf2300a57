import { afterEach, describe, expect, it } from "bun:test";
import {
  type CreateWebAudioPlayerParams,
  SessionMethods,
  type SetConfigurationParams,
  WebAudioEvents,
  WebAudioMethods,
  type WebAudioStateEvent,
} from "@rialto/protocol";
import { AsyncQueue, WAIT_MS } from "../test-support/async-queue.ts";
import { InProcessSessionServer } from "../test-support/in-process-session-server.ts";
import { rejectionOf } from "../test-support/rejection.ts";
import { TestClient } from "../test-support/test-client.ts";

/** Mono 8-bit unsigned at 8000 frames/s: one byte per frame. */
const MONO: CreateWebAudioPlayerParams = {
  mimeType: "audio/x-raw",
  pcm: {
    rate: 8000,
    channels: 1,
    sampleSize: 8,
    isBigEndian: false,
    isSigned: false,
    isFloat: false,
  },
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An in-process session server with web audio (one player unless overridden), Active, freerun. */
async function givenApp(overrides: Partial<SetConfigurationParams> = {}) {
  const server = await InProcessSessionServer.configured({
    targetState: "Active",
    resources: { maxPlaybackSessions: 1, supportsWebAudio: true, maxWebAudioPlayers: 1 },
    playback: { clock: "freerun", sink: "null" },
    ...overrides,
  });
  cleanups.push(() => server[Symbol.asyncDispose]());
  const connect = async () => {
    const client = await TestClient.registered(server.socketPath);
    cleanups.push(() => client[Symbol.asyncDispose]());
    const states = new AsyncQueue<WebAudioStateEvent>();
    client.peer.on(WebAudioEvents.state, (event) => states.push(event));
    return { client, states, call: client.peer.call.bind(client.peer) };
  };
  return { server, connect };
}

async function setState(server: InProcessSessionServer, state: "Active" | "Inactive") {
  await server.manager.setState(state);
  await server.manager.expectState(state);
}

describe("webAudio/* over the client sessions", () => {
  it("plays PCM the client wrote into its partition of the AV memory to EndOfStream", async () => {
    const app = await givenApp();
    const { client, call, states } = await app.connect();
    const { info, memory } = await client.getSharedMemory();
    const { playerId, region } = await call(WebAudioMethods.create, MONO);
    expect(info.webAudio[0]?.region).toEqual(region);

    const space = await call(WebAudioMethods.getBufferAvailable, { playerId });
    expect(space).toEqual({
      availableFrames: region.length,
      main: region,
      wrap: { offset: region.offset, length: 0 },
    });
    memory.bytes.fill(0x80, space.main.offset, space.main.offset + 100);
    await call(WebAudioMethods.writeBuffer, { playerId, numberOfFrames: 100 });
    expect(await call(WebAudioMethods.getBufferDelay, { playerId })).toEqual({ delayFrames: 100 });
    await call(WebAudioMethods.setVolume, { playerId, volume: 0.25 });
    expect(await call(WebAudioMethods.getVolume, { playerId })).toEqual({ volume: 0.25 });
    expect(await call(WebAudioMethods.getDeviceInfo, { playerId })).toEqual({
      preferredFrames: 640,
      maximumFrames: region.length,
      supportDeferredPlay: true,
    });

    await call(WebAudioMethods.play, { playerId });
    await call(WebAudioMethods.setEos, { playerId });
    expect([await states.next("Playing"), await states.next("EndOfStream")]).toEqual([
      { playerId, state: "Playing" },
      { playerId, state: "EndOfStream" },
    ]);
    expect((await rejectionOf(call(WebAudioMethods.play, { playerId }))).code).toBe(
      "INVALID_STATE",
    );
  });

  it("refuses web audio with PERMISSION_DENIED when the app's resources do not support it", async () => {
    const app = await givenApp({
      resources: { maxPlaybackSessions: 1, supportsWebAudio: false, maxWebAudioPlayers: 1 },
    });
    const { call } = await app.connect();
    const error = await rejectionOf(call(WebAudioMethods.create, MONO));
    expect(error.code).toBe("PERMISSION_DENIED");
  });

  it("refuses webAudio/* calls with INVALID_STATE while the app is Inactive", async () => {
    const app = await givenApp({ targetState: "Inactive" });
    const { call } = await app.connect();
    const errors = await Promise.all([
      rejectionOf(call(WebAudioMethods.create, MONO)),
      rejectionOf(call(WebAudioMethods.play, { playerId: 1 })),
    ]);
    expect(errors.map((e) => e.code)).toEqual(["INVALID_STATE", "INVALID_STATE"]);
  });

  it("refuses the player past maxWebAudioPlayers over every client with RESOURCE_EXHAUSTED", async () => {
    const app = await givenApp();
    const first = await app.connect();
    const second = await app.connect();
    const { playerId } = await first.call(WebAudioMethods.create, MONO);
    const error = await rejectionOf(second.call(WebAudioMethods.create, MONO));
    expect([error.code, error.details]).toEqual(["RESOURCE_EXHAUSTED", { maxWebAudioPlayers: 1 }]);
    expect((await rejectionOf(second.call(WebAudioMethods.destroy, { playerId }))).code).toBe(
      "NOT_FOUND",
    );
    await first.call(WebAudioMethods.destroy, { playerId });
    await second.call(WebAudioMethods.create, MONO);
  });

  it("frees a client's player on releaseResources and on Inactive", async () => {
    const app = await givenApp();
    const { call } = await app.connect();
    const released = await call(WebAudioMethods.create, MONO);
    await call(SessionMethods.releaseResources, {});
    const error = await rejectionOf(call(WebAudioMethods.play, { playerId: released.playerId }));
    expect(error.code).toBe("NOT_FOUND");

    const deactivated = await call(WebAudioMethods.create, MONO);
    await setState(app.server, "Inactive");
    await setState(app.server, "Active");
    expect(
      (await rejectionOf(call(WebAudioMethods.play, { playerId: deactivated.playerId }))).code,
    ).toBe("NOT_FOUND");
    await call(WebAudioMethods.create, MONO);
  });

  it("frees a disconnected client's player once its grace period ends", async () => {
    const app = await givenApp({ clientGracePeriodMs: 50 });
    const gone = await app.connect();
    await gone.call(WebAudioMethods.create, MONO);
    await gone.client[Symbol.asyncDispose]();
    const { call } = await app.connect();
    const deadline = performance.now() + WAIT_MS;
    for (;;) {
      const created = await call(WebAudioMethods.create, MONO).catch((error) => error);
      if (!(created instanceof Error)) break;
      expect(created).toMatchObject({ code: "RESOURCE_EXHAUSTED" });
      if (performance.now() > deadline)
        throw new Error("the grace period never released the player");
      await Bun.sleep(10);
    }
  });
});
