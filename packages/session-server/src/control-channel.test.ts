import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync } from "node:fs";
import { ControlChannelMethods, sideChannelPath } from "@rialto/protocol";
import { connectSideChannel } from "@rialto/shm";
import { PROCESS_TEST_TIMEOUT_MS, WAIT_MS } from "./test-support/async-queue.ts";
import { rejectionOf } from "./test-support/rejection.ts";
import { SessionServerProcess } from "./test-support/session-server-process.ts";
import { TestClient } from "./test-support/test-client.ts";

setDefaultTimeout(PROCESS_TEST_TIMEOUT_MS);

describe("control channel methods (real process)", () => {
  it("rejects SetState before configuration with INVALID_STATE and changes nothing", async () => {
    await using server = await SessionServerProcess.spawn();
    await server.manager.expectState("Uninitialised");

    // Step 1: Active and Inactive need a configured server.
    for (const state of ["Active", "Inactive"] as const) {
      const error = await rejectionOf(server.manager.setState(state));
      expect(error.code).toBe("INVALID_STATE");
      expect(error.message).toContain("Uninitialised");
    }

    // Step 2: it still takes its configuration, and nothing else was reported meanwhile.
    await server.configure();
    expect(await server.manager.nextState()).toEqual({ state: "Inactive" });
  });

  it("rejects a second SetConfiguration and same-state changes with INVALID_STATE", async () => {
    await using server = await SessionServerProcess.spawn();
    await server.manager.expectState("Uninitialised");
    await server.configure();

    // Step 1: a second configuration is refused even before the first one is reported.
    const twice = await rejectionOf(server.configure({ targetState: "Active" }));
    expect(twice.code).toBe("INVALID_STATE");
    await server.manager.expectState("Inactive");

    // Step 2: Inactive → Inactive is not a transition.
    expect((await rejectionOf(server.manager.setState("Inactive"))).code).toBe("INVALID_STATE");

    // Step 3: the valid path still works, and only its outcome was reported.
    await server.manager.setState("Active");
    expect(await server.manager.nextState()).toEqual({ state: "Active" });

    // Step 4: Active → Active is not one either: refused, nothing reported, still Active.
    expect((await rejectionOf(server.manager.setState("Active"))).code).toBe("INVALID_STATE");
    expect(server.manager.states.pending).toHaveLength(0);
    await server.manager.setState("Inactive");
    expect(await server.manager.nextState()).toEqual({ state: "Inactive" });
  });

  it("answers ping with the same id, before and after configuration", async () => {
    await using server = await SessionServerProcess.spawn();
    await server.manager.expectState("Uninitialised");
    const ping = (id: number) => server.manager.peer.call(ControlChannelMethods.ping, { id });
    expect(await ping(7)).toEqual({ id: 7, ok: true });
    await server.configure();
    await server.manager.expectState("Inactive");
    expect(await ping(Number.MAX_SAFE_INTEGER)).toEqual({ id: Number.MAX_SAFE_INTEGER, ok: true });
  });

  it("refuses control/park while not Inactive or in use, saying why, and serves on", async () => {
    await using server = await SessionServerProcess.spawn();
    const park = () => server.manager.peer.call(ControlChannelMethods.park, {});
    await server.manager.expectState("Uninitialised");

    // Step 1: not configured, then Active: refused, saying why, and nothing is reported.
    expect(await park()).toEqual({ parked: false, reason: "state Uninitialised, not Inactive" });
    // No grace period: a client that leaves is released at once (step 3).
    await server.configure({ targetState: "Active", clientGracePeriodMs: 0 });
    await server.manager.expectState("Active");
    expect(await park()).toEqual({ parked: false, reason: "state Active, not Inactive" });
    await server.manager.setState("Inactive");
    await server.manager.expectState("Inactive");

    // Step 2: a client connection (not even registered) holds the server: refused, and the
    // client is served as before.
    const client = await TestClient.connect(server.socketPath);
    const refused = await park();
    expect(refused.parked).toBe(false);
    expect(refused.reason).toStartWith("in use: 1 connection(s)");
    expect((await client.register()).applicationState).toBe("Inactive");
    expect(server.manager.states.pending).toHaveLength(0);

    // Step 3: a client between its two connects (its side channel accepted, its RPC connection
    // not made yet) holds it too, once the first client is gone.
    const arriving = connectSideChannel(sideChannelPath(server.socketPath));
    await client[Symbol.asyncDispose]();
    const expected = "in use: 0 connection(s), 1 side channel(s) unclaimed";
    let answer = await park();
    for (const start = performance.now(); !answer.reason?.startsWith(expected); ) {
      if (answer.parked || performance.now() - start > WAIT_MS) {
        throw new Error(`expected "${expected}", got ${JSON.stringify(answer)}`);
      }
      await Bun.sleep(20);
      answer = await park();
    }
    expect(await server.manager.peer.call(ControlChannelMethods.ping, { id: 3 })).toEqual({
      id: 3,
      ok: true,
    });
    expect(server.manager.states.pending).toHaveLength(0);
    arriving.channel.close();
  });

  it("refuses control/park when its sockets are its own, not passed by a manager", async () => {
    await using server = await SessionServerProcess.configured();

    // Parking would remove the socket files it created, leaving the app with no socket; the
    // parked path itself, with a manager's sockets, is tests/issue-15-parking.test.ts.
    expect(await server.manager.peer.call(ControlChannelMethods.park, {})).toEqual({
      parked: false,
      reason: "its sockets are its own, not a manager's",
    });
    expect(existsSync(server.socketPath)).toBe(true);
    await using client = await TestClient.registered(server.socketPath);
    expect(client.registration?.applicationState).toBe("Inactive");
  });

  it("logs JSON lines to stderr with pid and appId bound, at the configured level", async () => {
    await using server = await SessionServerProcess.configured({
      appId: "logging-app",
      logLevel: "debug",
    });

    const line = await server.logs.waitFor((l) => l.msg === "listening for clients", "log line");
    expect(line.pid).toBe(server.pid);
    expect(line.appId).toBe("logging-app");
    expect(line.socketPath).toBe(server.socketPath);
    // Debug was enabled by SetConfiguration: a ping leaves a debug line.
    await server.manager.peer.call(ControlChannelMethods.ping, { id: 1 });
    const debug = await server.logs.waitFor((l) => l.msg === "control ping", "debug line");
    expect(debug).toMatchObject({ level: 20, id: 1, appId: "logging-app" });
  });

  it("changes the log level at run time with SetLogLevel", async () => {
    await using server = await SessionServerProcess.configured({ logLevel: "info" });
    const ping = (id: number) => server.manager.peer.call(ControlChannelMethods.ping, { id });

    // Step 1: at info, a ping leaves no debug line.
    await ping(1);
    // Step 2: at debug it does; lines arrive in order, so ping 1's line would have come first.
    expect(
      await server.manager.peer.call(ControlChannelMethods.setLogLevel, { level: "debug" }),
    ).toEqual({});
    await ping(2);
    const debug = await server.logs.waitFor((l) => l.msg === "control ping", "debug ping line");
    expect(debug.id).toBe(2);
    // Step 3: back to warn: even info lines stop (the NotRunning report is logged at info).
    await server.manager.peer.call(ControlChannelMethods.setLogLevel, { level: "warn" });
    await server.manager.setState("NotRunning");
    await server.manager.expectState("NotRunning");
    expect(await server.waitForExit()).toBe(0);
    await server.logs.waitFor((l) => l.msg === "log level changed" && l.level === 30, "level line");
    expect(
      server.logs.pending.filter((l) => typeof l.level === "number" && (l.level as number) < 40),
    ).toEqual([]);
    expect(existsSync(server.socketPath)).toBe(false);
  });
});
