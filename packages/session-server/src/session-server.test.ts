import { describe, expect, it } from "bun:test";
import { existsSync } from "node:fs";
import type { ClientGatewayOptions, ResourceOwner } from "./client-gateway/index.ts";
import { createClientSessions } from "./clients/index.ts";
import { SessionServerExitCode } from "./exit-codes.ts";
import { InProcessSessionServer } from "./test-support/in-process-session-server.ts";
import { TestClient } from "./test-support/test-client.ts";

/** A media resource owner that records when it was asked to free everything. */
function recordingOwner(log: string[], fail = false): ResourceOwner {
  return {
    async releaseAllResources() {
      log.push("released");
      if (fail) throw new Error("pipeline refused to stop");
    },
  };
}

describe("SessionServer state machine (in process)", () => {
  it("asks media resource owners to free everything on Active → Inactive", async () => {
    const log: string[] = [];
    await using server = await InProcessSessionServer.configured(
      { targetState: "Active" },
      { resourceOwners: [recordingOwner(log)] },
    );
    await using client = await TestClient.registered(server.socketPath);
    await client.getSharedMemory();

    await server.manager.setState("Inactive");
    await server.manager.expectState("Inactive");
    expect(log).toEqual(["released"]);
    expect(await client.states.next("Inactive")).toBe("Inactive");
  });

  it("also frees them when stopping, and owners added later are asked too", async () => {
    const log: string[] = [];
    await using server = await InProcessSessionServer.configured({ targetState: "Active" });
    server.running.server.addResourceOwner(recordingOwner(log));

    await server.manager.setState("NotRunning");
    await server.manager.expectState("NotRunning");
    expect(await server.running.exitCode).toBe(SessionServerExitCode.Stopped);
    expect(log).toEqual(["released"]);
  });

  it("reports Error and exits 1 when an owner cannot free its resources on Inactive", async () => {
    const log: string[] = [];
    await using server = await InProcessSessionServer.configured(
      { targetState: "Active" },
      { resourceOwners: [recordingOwner(log, true)] },
    );
    await server.manager.setState("Inactive");
    const error = await server.manager.expectState("Error");
    expect(error.reason).toContain("pipeline refused to stop");
    expect(await server.running.exitCode).toBe(SessionServerExitCode.Error);
    expect(existsSync(server.socketPath)).toBe(false);
  });

  it("runs queued state changes in order, each reported once", async () => {
    await using server = await InProcessSessionServer.configured();
    // Sent back to back: each is checked against the state the earlier ones lead to.
    await Promise.all([
      server.manager.setState("Active"),
      server.manager.setState("Inactive"),
      server.manager.setState("Active"),
    ]);
    expect((await server.manager.nextState()).state).toBe("Active");
    expect((await server.manager.nextState()).state).toBe("Inactive");
    expect((await server.manager.nextState()).state).toBe("Active");
    await using client = await TestClient.registered(server.socketPath);
    const { memory } = await client.getSharedMemory();
    expect(memory.size).toBeGreaterThan(0);
  });

  it("builds the client gateway it is given when the first client connects", async () => {
    const seen: ClientGatewayOptions[] = [];
    await using server = await InProcessSessionServer.configured(
      {
        clientGracePeriodMs: 1500,
        playback: { clock: "freerun", sink: "checksum" },
        allowedUids: [0, 1],
      },
      {
        createClientGateway: (options) => {
          seen.push(options);
          return createClientSessions(options);
        },
      },
    );
    // Inactive with no client: the client side is not built.
    expect(seen).toHaveLength(0);
    await using client = await TestClient.registered(server.socketPath);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      clientGracePeriodMs: 1500,
      playback: { clock: "freerun", sink: "checksum" },
      allowedUids: [0, 1],
      applicationState: "Inactive",
    });
    expect(seen[0]?.avMemory()).toBeUndefined();
    await server.manager.setState("Active");
    await server.manager.expectState("Active");
    expect(seen[0]?.avMemory()?.size).toBeGreaterThan(0);
    expect((await client.getSharedMemory()).memory.size).toBeGreaterThan(0);
    await using second = await TestClient.registered(server.socketPath);
    expect(second.registration?.clientId).not.toBe(client.registration?.clientId);
    expect(seen).toHaveLength(1);
  });

  it("builds the gateway of an app that went Active before its first client as Running", async () => {
    const seen: ClientGatewayOptions[] = [];
    await using server = await InProcessSessionServer.configured(
      { targetState: "Active" },
      {
        createClientGateway: (options) => {
          seen.push(options);
          return createClientSessions(options);
        },
      },
    );
    expect(seen).toHaveLength(0);
    await using _client = await TestClient.registered(server.socketPath);
    expect(seen[0]?.applicationState).toBe("Running");
  });
});
