import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { RialtoClient } from "@rialto/client";
import { RialtoError, sideChannelPath } from "@rialto/protocol";
import { createTestManager, type TestManager } from "./support/lifecycle-manager.ts";
import { avMemfdCount, processGone } from "./support/lifecycle-proc.ts";
import { rejection } from "./support/rejection.ts";
import { waitFor } from "./support/wait.ts";

// Process tests start real session servers (about 0.5 s each on a 2-core machine).
setDefaultTimeout(30_000);

/**
 * A client of `appId` (closed by the test's `await using`): `heard` holds every application state
 * pushed to it after it registered (the state at registration is `client.applicationState`).
 */
async function connectClient(t: TestManager, appId: string) {
  const client = await RialtoClient.connect({ socketPath: t.manager.getAppConnectionInfo(appId) });
  const heard: string[] = [];
  client.on("applicationState", (state) => heard.push(state));
  return {
    client,
    heard,
    waitForState: (state: string) =>
      waitFor(`${appId}'s client to be ${state}`, () => client.applicationState === state),
    [Symbol.asyncDispose]: () => client.close(),
  };
}

describe("ServerManager lifecycle (real session server)", () => {
  it("takes an app NotRunning → Inactive → Active → Inactive → NotRunning, announcing each state in order", async () => {
    await using t = createTestManager();
    const { manager } = t;
    // Step 1: initiate; the call resolves once spawned, the states follow.
    const pid = await t.givenApp("app1", "Inactive");
    const socketPath = manager.getAppConnectionInfo("app1");
    expect(statSync(socketPath).isSocket()).toBe(true);
    expect(statSync(socketPath).mode & 0o777).toBe(0o660);
    expect(pid).toBeGreaterThan(0);
    // Step 2: Inactive → Active → Inactive.
    await t.changeState("app1", "Active");
    expect(manager.getState("app1")).toBe("Active");
    await t.changeState("app1", "Inactive");
    // Step 3: NotRunning: the process exits by itself and the app is forgotten.
    await t.changeState("app1", "NotRunning");
    expect(manager.getState("app1")).toBeUndefined();
    expect(manager.listApplications()).toEqual([]);
    await waitFor("the session server to be reaped", () => processGone(pid));
    // Step 4: it removed its client socket and the socket's fd side channel.
    expect(existsSync(socketPath)).toBe(false);
    expect(existsSync(sideChannelPath(socketPath))).toBe(false);
    expect(t.statesOf("app1")).toEqual([
      "Uninitialised",
      "Inactive",
      "Active",
      "Inactive",
      "NotRunning",
    ]);
    expect(manager.getTerminationReason("app1")?.kind).toBe("stopped");
    expect(manager.getTerminationReason("app1")?.exit).toEqual({ exitCode: 0, signal: null });
  });

  it("starts an app directly in Active, stops it from Active (exit 0, socket removed) and lets a later initiate reuse its id", async () => {
    await using t = createTestManager();
    // Step 1: NotRunning → Active: the shared memory is allocated with the configuration.
    const pid = await t.givenApp("app1", "Active");
    const socketPath = t.manager.getAppConnectionInfo("app1");
    expect(avMemfdCount(pid)).toBe(1);
    // Step 2: Active → NotRunning: the process frees everything and exits 0 by itself.
    await t.changeState("app1", "NotRunning");
    await waitFor("the session server to be reaped", () => processGone(pid));
    expect(t.manager.getTerminationReason("app1")?.exit).toEqual({ exitCode: 0, signal: null });
    expect(existsSync(socketPath)).toBe(false);
    expect(existsSync(sideChannelPath(socketPath))).toBe(false);
    // Step 3: the id is free again.
    expect(await t.givenApp("app1", "Inactive")).not.toBe(pid);
    expect(t.statesOf("app1")).toEqual([
      "Uninitialised",
      "Active",
      "NotRunning",
      "Uninitialised",
      "Inactive",
    ]);
  });

  it("frees the shared memory on Active → Inactive: the memfd leaves the session server's fds while its client is told Inactive", async () => {
    await using t = createTestManager();
    const pid = await t.givenApp("app1", "Inactive");
    expect(avMemfdCount(pid)).toBe(0);
    await using app = await connectClient(t, "app1");
    // Step 1: Inactive → Active: the session server holds one AV memfd; the client maps it.
    await t.changeState("app1", "Active");
    expect(avMemfdCount(pid)).toBe(1);
    await app.waitForState("Running");
    await app.client.setApplicationState("Running");
    expect(app.client.sharedMemory?.memory.size).toBeGreaterThan(0);
    // Step 2: Active → Inactive: by the time Inactive is reported the memfd is closed.
    await t.changeState("app1", "Inactive");
    expect(avMemfdCount(pid)).toBe(0);
    await app.waitForState("Inactive");
    expect(app.client.sharedMemory).toBeUndefined();
    // Step 3: Active again allocates a fresh one.
    await t.changeState("app1", "Active");
    expect(avMemfdCount(pid)).toBe(1);
    await app.waitForState("Running");
    expect(app.heard).toEqual(["Running", "Inactive", "Running"]);
  });

  it("places sockets by the naming rules: generated, relative to the runtime dir, or absolute", async () => {
    await using t = createTestManager();
    const absolute = `${t.runtimeDir}/elsewhere.sock`;
    await t.manager.initiateApplication("generated", "Inactive");
    await t.manager.initiateApplication("relative", "Inactive", {
      sessionManagementSocketName: "my-app.sock",
    });
    await t.manager.initiateApplication("absolute", "Inactive", {
      sessionManagementSocketName: absolute,
    });
    expect(t.manager.getAppConnectionInfo("generated")).toMatch(
      new RegExp(`^${t.runtimeDir}/generated-[0-9a-f]{8}\\.sock$`),
    );
    expect(t.manager.getAppConnectionInfo("relative")).toBe(`${t.runtimeDir}/my-app.sock`);
    expect(t.manager.getAppConnectionInfo("absolute")).toBe(absolute);
    for (const app of ["generated", "relative", "absolute"]) await t.waitForState(app, "Inactive");
    expect(statSync(absolute).isSocket()).toBe(true);
  });

  it("applies concurrent calls on one app in the order they were made", async () => {
    await using t = createTestManager();
    const { manager } = t;
    // Step 1: four calls without waiting in between.
    const calls = [
      manager.initiateApplication("app1", "Inactive"),
      manager.changeSessionServerState("app1", "Active"),
      manager.changeSessionServerState("app1", "Inactive"),
      manager.changeSessionServerState("app1", "NotRunning"),
    ];
    // Step 2: each ran against the state the previous one produced.
    await Promise.all(calls);
    await t.waitForState("app1", "NotRunning");
    expect(t.statesOf("app1")).toEqual([
      "Uninitialised",
      "Inactive",
      "Active",
      "Inactive",
      "NotRunning",
    ]);
  });

  it("switches the decoders from one app to another (app 1 Inactive first, then app 2 Active)", async () => {
    await using t = createTestManager();
    // Given: app 1 Active and app 2 Inactive, each with a client.
    const [pid1, pid2] = await Promise.all([
      t.givenApp("app1", "Active"),
      t.givenApp("app2", "Inactive"),
    ]);
    await using app1 = await connectClient(t, "app1");
    await using app2 = await connectClient(t, "app2");
    await app1.waitForState("Running");
    await app2.waitForState("Inactive");
    // Step 1: the application manager makes app 1 Inactive and waits for stateChanged(Inactive).
    await t.changeState("app1", "Inactive");
    expect(avMemfdCount(pid1)).toBe(0);
    expect(avMemfdCount(pid2)).toBe(0);
    // Step 2: only then app 2 Active.
    await t.changeState("app2", "Active");
    expect(avMemfdCount(pid2)).toBe(1);
    await app1.waitForState("Inactive");
    await app2.waitForState("Running");
    const order = t.states
      .filter(([, state]) => state === "Inactive" || state === "Active")
      .slice(-2);
    expect(order).toEqual([
      ["app1", "Inactive"],
      ["app2", "Active"],
    ]);
    expect(app1.heard).toEqual(["Inactive"]);
    expect(app2.heard).toEqual(["Running"]);
  });

  it("rejects with APP_EXISTS, UNKNOWN_APP, INVALID_STATE and INVALID_ARGUMENT", async () => {
    await using t = createTestManager();
    const { manager } = t;
    await t.givenApp("app1", "Inactive");

    const exists = await rejection(manager.initiateApplication("app1", "Active"));
    expect(exists.code).toBe("APP_EXISTS");
    expect(exists.message).toBe('initiateApplication: app "app1" already exists (state Inactive)');

    const unknown = await rejection(manager.changeSessionServerState("nope", "Active"));
    expect(unknown.code).toBe("UNKNOWN_APP");
    expect(unknown.message).toBe('changeSessionServerState: unknown app "nope"');
    expect(() => manager.getAppConnectionInfo("nope")).toThrow(
      'getAppConnectionInfo: unknown app "nope"',
    );
    expect((await rejection(manager.setLogLevel("debug", "nope"))).code).toBe("UNKNOWN_APP");
    expect(manager.getState("nope")).toBeUndefined();

    const same = await rejection(manager.changeSessionServerState("app1", "Inactive"));
    expect(same.code).toBe("INVALID_STATE");
    expect(same.message).toBe('changeSessionServerState: app "app1" is already Inactive');

    const badId = await rejection(manager.initiateApplication("../etc", "Inactive"));
    expect(badId.code).toBe("INVALID_ARGUMENT");
    expect(badId.message).toBe(
      'initiateApplication: app id "../etc" must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
    );
    const badState = await rejection(manager.initiateApplication("app2", "NotRunning" as "Active"));
    expect(badState.message).toBe(
      'initiateApplication: state "NotRunning" must be "Inactive" or "Active"',
    );
    const badConfig = await rejection(
      manager.initiateApplication("app2", "Inactive", { resources: { maxPlaybackSessions: 99 } }),
    );
    expect(badConfig.code).toBe("INVALID_ARGUMENT");
    expect(badConfig.message).toContain(
      "initiateApplication: config: /resources/maxPlaybackSessions",
    );
    const badSocket = await rejection(
      manager.initiateApplication("app2", "Inactive", { sessionManagementSocketName: ".." }),
    );
    expect(badSocket.code).toBe("INVALID_ARGUMENT");
    const sharedSocket = await rejection(
      manager.initiateApplication("app2", "Inactive", {
        sessionManagementSocketName: manager.getAppConnectionInfo("app1"),
      }),
    );
    expect(sharedSocket.message).toContain('is already used by app "app1"');
    expect(() => manager.getState("bad id")).toThrow(RialtoError);

    // Step 2: a stop in progress is not stopped twice.
    const stop = manager.changeSessionServerState("app1", "NotRunning");
    const again = manager.changeSessionServerState("app1", "NotRunning");
    await stop;
    const second = await rejection(again);
    expect(second.code).toBe("UNKNOWN_APP");
    expect(t.statesOf("app2")).toEqual([]);
  });

  it("changes log levels of one app and of every app", async () => {
    await using t = createTestManager();
    await t.givenApp("app1", "Inactive");
    await t.manager.setLogLevel("warn", "app1");
    await t.manager.setLogLevel("error");
    const bad = await rejection(t.manager.setLogLevel("loud" as "info"));
    expect(bad.message).toBe(
      'setLogLevel: level "loud" must be one of fatal, error, warn, info, debug, trace, silent',
    );
  });

  it("close() stops every app, leaves no process behind and refuses later calls", async () => {
    const t = createTestManager();
    const { manager } = t;
    await Promise.all([t.givenApp("app1", "Active"), t.givenApp("app2", "Inactive")]);
    const pids = manager.listApplications().map((app) => app.pid as number);
    expect(pids).toHaveLength(2);
    await t[Symbol.asyncDispose]();
    for (const pid of pids) expect(processGone(pid)).toBe(true);
    expect(t.statesOf("app1").at(-1)).toBe("NotRunning");
    expect(t.statesOf("app2").at(-1)).toBe("NotRunning");
    expect(manager.getTerminationReason("app1")?.kind).toBe("manager-closed");
    const late = await rejection(manager.initiateApplication("app3", "Inactive"));
    expect(late.code).toBe("INVALID_STATE");
    expect(late.message).toBe("initiateApplication: the server manager is closed");
  });
});
