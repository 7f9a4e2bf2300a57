import { describe, expect, it, setDefaultTimeout } from "bun:test";
import {
  connectUnix,
  PROTOCOL_VERSION,
  RpcPeer,
  SessionMethods,
  type SessionServerState,
} from "@rialto/protocol";
import { TestMethods } from "@rialto/protocol/testing";
import { processGone } from "./support/lifecycle-proc.ts";
import { TestApp } from "./support/rialto-app.ts";
import { waitFor } from "./support/wait.ts";

setDefaultTimeout(30_000);

describe("the health check is a heartbeat through the session server (issue 12, item 8)", () => {
  it("reaches the pipelines and the Running clients, ignores a client that never answers, and finds a wedged render loop hung though the process answers", async () => {
    // Given an Active app pinged every 200 ms (3 misses = hung), a Running client with a
    // pipeline, and a raw client that registers and never answers a heartbeat.
    await using app = await TestApp.start({
      manager: {
        healthCheckIntervalMs: 200,
        failedPingsBeforeRecovery: 3,
        restartOnFailure: false,
      },
    });
    const states: SessionServerState[] = [];
    app.manager.on("stateChanged", (appId, state) => appId === app.appId && states.push(state));
    const client = await app.connect();
    await client.setApplicationState("Running");
    await client.createMediaPipeline();
    const deaf = new RpcPeer({ name: "deaf-client" });
    deaf.attach(await connectUnix(app.socketPath));
    await deaf.call(SessionMethods.register, { protocolVersion: PROTOCOL_VERSION });
    const pid = app.pid;

    // When several health checks pass, the client library has answered heartbeats by itself,
    // and the deaf client did not make the server look hung.
    await waitFor(
      "heartbeats answered by the client library",
      () => (client.getStats().methods["session/heartbeatAck"]?.count ?? 0) >= 5,
    );
    expect(app.manager.getState(app.appId)).toBe("Active");
    expect(states).toEqual([]);

    // When the render loop of the pipelines is wedged (the process itself still answers).
    await client.call(TestMethods.stallRenderLoop, {});
    expect(await client.ping(5)).toBe(5);

    // Then the pings are answered ok: false, the manager counts them as missed, and after three
    // it kills the server as hung and reports Error.
    await waitFor("Error", () => states.includes("Error"));
    expect(app.manager.getTerminationReason(app.appId)?.kind).toBe("hung");
    await waitFor("the hung server gone", () => processGone(pid));
    deaf.close();
  });

  it("finds a wedged web-audio player hung too", async () => {
    await using app = await TestApp.start({
      config: {
        resources: { maxPlaybackSessions: 0, supportsWebAudio: true, maxWebAudioPlayers: 1 },
      },
      manager: {
        healthCheckIntervalMs: 200,
        failedPingsBeforeRecovery: 3,
        restartOnFailure: false,
      },
    });
    const states: SessionServerState[] = [];
    app.manager.on("stateChanged", (appId, state) => appId === app.appId && states.push(state));
    const client = await app.connect();
    await client.setApplicationState("Running");
    await client.createWebAudioPlayer({
      mimeType: "audio/x-raw",
      pcm: {
        rate: 48000,
        channels: 2,
        sampleSize: 16,
        isBigEndian: false,
        isSigned: true,
        isFloat: false,
      },
    });
    await waitFor(
      "heartbeats answered",
      () => (client.getStats().methods["session/heartbeatAck"]?.count ?? 0) >= 3,
    );
    expect(states).toEqual([]);
    // The only media worker is the player: wedging its timers makes the pings fail.
    await client.call(TestMethods.stallRenderLoop, {});
    await waitFor("Error", () => states.includes("Error"));
    expect(app.manager.getTerminationReason(app.appId)?.kind).toBe("hung");
  });
});
