import { describe, expect, it } from "bun:test";
import {
  connectUnix,
  PROTOCOL_VERSION,
  RetryClient,
  RpcPeer,
  SessionMethods,
} from "@rialto/protocol";
import { TestApp } from "./support/rialto-app.ts";
import { eventually } from "./support/wait.ts";

describe("RialtoClient against a real session server", () => {
  it("registers, follows the application state the server pushes, and maps the AV memory on Running", async () => {
    // Step 1: an Inactive app; the client sees Inactive and cannot get shared memory.
    await using app = await TestApp.start({ state: "Inactive" });
    const client = await app.connect();
    expect(client.applicationState).toBe("Inactive");
    expect(client.clientId).toBeGreaterThan(0);
    const states: string[] = [];
    client.on("applicationState", (state) => states.push(state));
    await expect(client.setApplicationState("Running")).rejects.toMatchObject({
      code: "INVALID_STATE",
    });
    // Step 2: the manager makes it Active; the client is told Running and maps the memory.
    await app.setState("Active");
    await eventually(() => client.applicationState === "Running", "Running");
    await client.setApplicationState("Running");
    const mapped = client.sharedMemory;
    expect(mapped?.memory.size).toBe(mapped?.info.size);
    expect(mapped?.info.playback).toHaveLength(1);
    // Step 3: back to Inactive; the client is told so and its mapping is gone.
    await app.setState("Inactive");
    await eventually(() => client.applicationState === "Inactive", "Inactive");
    expect(states).toEqual(["Running", "Inactive"]);
    expect(client.sharedMemory).toBeUndefined();
  });

  it("creates pipelines up to maxPlaybackSessions, frees them on destroy and on Inactive", async () => {
    await using app = await TestApp.start({ config: { resources: { maxPlaybackSessions: 2 } } });
    const a = await app.connect();
    const b = await app.connect();
    const first = await a.createMediaPipeline({ maxWidth: 1920, maxHeight: 1080 });
    await b.createMediaPipeline();
    await expect(a.createMediaPipeline()).rejects.toMatchObject({ code: "RESOURCE_EXHAUSTED" });
    await first.destroy();
    expect(first.lifecycle).toBe("destroyed");
    const second = await a.createMediaPipeline();
    // The client going Inactive frees its pipelines: b can now take a's place.
    await a.setApplicationState("Inactive");
    expect(second.lifecycle).toBe("released");
    await b.createMediaPipeline();
  });

  it("refuses media calls while the app is Inactive with INVALID_STATE", async () => {
    await using app = await TestApp.start({ state: "Inactive" });
    const client = await app.connect();
    await expect(client.createMediaPipeline()).rejects.toMatchObject({ code: "INVALID_STATE" });
  });

  it("answers ping with its argument and counts calls per method", async () => {
    await using app = await TestApp.start();
    const client = await app.connect();
    for (const n of [0, -7, 2 ** 40]) expect(await client.ping(n)).toBe(n);
    const stats = client.getStats();
    expect(stats.calls).toBeGreaterThanOrEqual(3);
    expect(stats.methods["session/ping"]).toMatchObject({ count: 3, errors: 0 });
  });

  it("keeps its calls and its pipelines across a dropped connection", async () => {
    await using app = await TestApp.start();
    const client = await app.connect();
    const pipeline = await client.createMediaPipeline();
    const pings = [1, 2, 3].map((n) => client.ping(n));
    client.dropConnection();
    expect(await Promise.all(pings)).toEqual([1, 2, 3]);
    await pipeline.destroy();
    expect(client.getStats().reconnects).toBe(1);
    expect(client.applicationState).toBe("Running");
  });

  it("refuses another protocol major with INCOMPATIBLE_VERSION", async () => {
    await using app = await TestApp.start();
    const major = Number(PROTOCOL_VERSION.split(".")[0]);
    await expect(
      RetryClient.connect({
        connect: () => connectUnix(app.socketPath),
        registration: () => ({ protocolVersion: `${major + 1}.0.0` }),
      }),
    ).rejects.toMatchObject({ code: "INCOMPATIBLE_VERSION" });
  });

  it("answers a registration with a client id it does not know with UNKNOWN_CLIENT", async () => {
    await using app = await TestApp.start();
    await using peer = new RpcPeer({ transport: await connectUnix(app.socketPath) });
    await expect(
      peer.call(SessionMethods.register, { protocolVersion: PROTOCOL_VERSION, clientId: 777 }),
    ).rejects.toMatchObject({ code: "UNKNOWN_CLIENT" });
  });
});
