import { afterEach, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MonitorMessage, RialtoError, SessionServerState } from "@rialto/protocol";
import type { TerminationKind } from "./app-phase.ts";
import type { ServerManagerOptions } from "./options.ts";
import { ServerManager } from "./server-manager.ts";
import { type FakeBehaviour, FakeSessionServers } from "./test-support/fake-session-server.ts";

// Every test drives the real ServerManager and AppSupervisor against in-memory session servers:
// no process, no socket but the app's own listening socket, a few milliseconds each.
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const FAST: ServerManagerOptions = {
  logLevel: "silent",
  sessionServerCommand: ["fake-session-server"],
  healthCheckIntervalMs: 0,
  readyTimeoutMs: 100,
  transitionTimeoutMs: 100,
  stopTimeoutMs: 20,
};

function givenManager(options: ServerManagerOptions = {}, behaviours: FakeBehaviour[] = []) {
  const fakes = new FakeSessionServers();
  fakes.next.push(...behaviours);
  const runtimeDir = mkdtempSync(join(tmpdir(), "rialto-fake-"));
  const manager = new ServerManager({
    ...FAST,
    runtimeDir,
    launchSessionServer: fakes.launch,
    ...options,
  });
  const states: [string, SessionServerState][] = [];
  manager.on("stateChanged", (appId, state) => states.push([appId, state]));
  cleanups.push(async () => {
    await manager.close();
    rmSync(runtimeDir, { recursive: true, force: true });
  });
  /** Resolves once `appId` reports `state` (the n-th time it does, for a state seen before). */
  const reaches = (appId: string, state: SessionServerState, nth = 1) =>
    new Promise<void>((resolve, reject) => {
      const seen = () => states.filter(([a, s]) => a === appId && s === state).length >= nth;
      if (seen()) return resolve();
      const timer = setTimeout(
        () => reject(new Error(`${appId} did not reach ${state} (${nth}); saw ${states}`)),
        2000,
      );
      const listener = () => {
        if (!seen()) return;
        clearTimeout(timer);
        manager.off("stateChanged", listener);
        resolve();
      };
      manager.on("stateChanged", listener);
    });
  const ended = async (appId: string, kind: TerminationKind) => {
    for (const start = performance.now(); performance.now() - start < 2000; ) {
      if (manager.getTerminationReason(appId)?.kind === kind) return;
      await Bun.sleep(2);
    }
    throw new Error(
      `${appId}: termination ${manager.getTerminationReason(appId)?.kind}, not ${kind}`,
    );
  };
  const statesOf = (appId: string) => states.filter(([a]) => a === appId).map(([, s]) => s);
  return { manager, fakes, reaches, ended, statesOf };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("resolved, expected a rejection");
    },
    (error: RialtoError) => error,
  );

describe("AppSupervisor with in-memory session servers", () => {
  it("walks an app through every phase: start Active, Inactive, Active, NotRunning", async () => {
    const { manager, fakes, reaches, statesOf } = givenManager();
    await manager.initiateApplication("app", "Active");
    await reaches("app", "Active");
    const fake = fakes.latest;
    expect(fake.configuration).toMatchObject({ targetState: "Active" });
    await manager.changeSessionServerState("app", "Inactive");
    await reaches("app", "Inactive");
    await manager.changeSessionServerState("app", "Active");
    await reaches("app", "Active", 2);
    await manager.changeSessionServerState("app", "NotRunning");
    await reaches("app", "NotRunning");
    expect(statesOf("app")).toEqual([
      "Uninitialised",
      "Active",
      "Inactive",
      "Active",
      "NotRunning",
    ]);
    expect(fake.calls).toEqual([
      "control/setConfiguration",
      "control/setState Inactive",
      "control/setState Active",
      "control/setState NotRunning",
    ]);
    expect(manager.getTerminationReason("app")).toMatchObject({
      kind: "stopped",
      exit: { exitCode: 0 },
    });
    expect(manager.getState("app")).toBeUndefined();
  });

  it("refuses a state the app is in already, before anything is sent", async () => {
    const { manager, fakes, reaches } = givenManager();
    await manager.initiateApplication("app", "Active");
    await reaches("app", "Active");
    const error = await refusal(manager.changeSessionServerState("app", "Active"));
    expect(error.code).toBe("INVALID_STATE");
    expect(fakes.latest.calls).toEqual(["control/setConfiguration"]);
  });

  it("spawn-failed: a session server that cannot be started fails the call and is forgotten", async () => {
    const { manager, fakes, ended } = givenManager();
    fakes.failNextLaunch = true;
    const error = await refusal(manager.initiateApplication("app", "Active"));
    expect(error.code).toBe("SPAWN_FAILED");
    await ended("app", "spawn-failed");
    expect(manager.getState("app")).toBeUndefined();
  });

  it("socket-unavailable: an app whose socket path cannot be bound starts nothing", async () => {
    const { manager, fakes } = givenManager();
    const error = await refusal(
      manager.initiateApplication("app", "Active", {
        sessionManagementSocketName: "/nonexistent-dir/app.sock",
      }),
    );
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(manager.getTerminationReason("app")?.kind).toBe("socket-unavailable");
    expect(fakes.started).toEqual([]);
  });

  it("ready-timeout: one that never sends its first message is killed", async () => {
    const { manager, fakes, ended } = givenManager({}, [{ silent: true }]);
    await manager.initiateApplication("app", "Active");
    await ended("app", "ready-timeout");
    expect(fakes.latest.signals).toContain("SIGKILL");
    expect(fakes.latest.running).toBe(false);
  });

  it("protocol-error: one whose first message is not Uninitialised is killed", async () => {
    const { manager, fakes, ended } = givenManager({}, [{ firstState: "Active" }]);
    await manager.initiateApplication("app", "Active");
    await ended("app", "protocol-error");
    expect(fakes.latest.running).toBe(false);
  });

  it("configuration-failed: a refused SetConfiguration, or Error while configuring", async () => {
    for (const behaviour of [{ refuseConfiguration: true }, { failConfiguration: true }]) {
      const { manager, fakes, ended } = givenManager({}, [behaviour]);
      await manager.initiateApplication("app", "Active");
      await ended("app", "configuration-failed");
      expect(fakes.started).toHaveLength(1);
    }
  });

  it("state-change-failed: a refused SetState fails the call and ends the app", async () => {
    const { manager, reaches, ended } = givenManager({}, [{ refuseStateChanges: true }]);
    await manager.initiateApplication("app", "Active");
    await reaches("app", "Active");
    const error = await refusal(manager.changeSessionServerState("app", "Inactive"));
    expect(error.code).toBe("INTERNAL");
    await ended("app", "state-change-failed");
  });

  it("transition-timeout: a state never reached is a hang; the app is restarted in the state it last reached", async () => {
    const { manager, fakes, reaches, ended } = givenManager({}, [{ stallStateChanges: true }]);
    await manager.initiateApplication("app", "Active");
    await reaches("app", "Active");
    await manager.changeSessionServerState("app", "Inactive");
    await ended("app", "transition-timeout");
    await reaches("app", "Active", 2);
    expect(fakes.started).toHaveLength(2);
    expect(fakes.started[0]?.running).toBe(false);
    expect(fakes.latest.configuration).toMatchObject({ targetState: "Active" });
  });

  it("reported-error, crashed, channel-broken: each is restarted to the state the app had", async () => {
    const faults: [TerminationKind, (fakes: FakeSessionServers) => void][] = [
      ["reported-error", (f) => f.latest.reportError("fake fault")],
      ["crashed", (f) => f.latest.crash(3)],
      ["channel-broken", (f) => f.latest.breakChannel()],
    ];
    for (const [kind, fault] of faults) {
      const { manager, fakes, reaches, ended } = givenManager();
      await manager.initiateApplication("app", "Active");
      await reaches("app", "Active");
      fault(fakes);
      await ended("app", kind);
      await reaches("app", "Active", 2);
      expect(fakes.started).toHaveLength(2);
      expect(fakes.started[0]?.running).toBe(false);
    }
  });

  it("crashed: the exit code is recorded; without restartOnFailure the app is forgotten", async () => {
    const { manager, fakes, reaches, ended } = givenManager({ restartOnFailure: false });
    await manager.initiateApplication("app", "Inactive");
    await reaches("app", "Inactive");
    fakes.latest.crash(7);
    await ended("app", "crashed");
    expect(manager.getTerminationReason("app")?.exit).toEqual({ exitCode: 7, signal: null });
    await reaches("app", "NotRunning");
    expect(fakes.started).toHaveLength(1);
    expect(manager.getState("app")).toBeUndefined();
  });

  it("hung: the health check kills one that stops answering pings, and restarts the app", async () => {
    const { manager, fakes, reaches, ended } = givenManager({
      healthCheckIntervalMs: 10,
      failedPingsBeforeRecovery: 2,
    });
    let answered = 0;
    manager.on("pingAnswered", () => answered++);
    await manager.initiateApplication("app", "Active");
    await reaches("app", "Active");
    for (const start = performance.now(); answered < 2 && performance.now() - start < 2000; ) {
      await Bun.sleep(5);
    }
    expect(answered).toBeGreaterThanOrEqual(2);
    fakes.latest.hang();
    await ended("app", "hung");
    expect(fakes.started[0]?.signals).toContain("SIGKILL");
    await reaches("app", "Active", 2);
  });

  it("a stop that the session server ignores escalates from SIGTERM to SIGKILL", async () => {
    const { manager, fakes, reaches } = givenManager({}, [{ ignoreSigterm: true, silent: true }]);
    await manager.initiateApplication("app", "Active");
    await fakes.latest.exited;
    expect(fakes.latest.signals).toEqual(["SIGKILL"]);
    // A well-behaved one stops on request: no signal at all.
    await manager.initiateApplication("next", "Inactive");
    await reaches("next", "Inactive");
    await manager.changeSessionServerState("next", "NotRunning");
    await reaches("next", "NotRunning");
    expect(fakes.latest.signals).toEqual([]);
  });

  it("manager-closed: close() stops every app", async () => {
    const { manager, fakes, reaches } = givenManager();
    await manager.initiateApplication("a", "Active");
    await manager.initiateApplication("b", "Inactive");
    await Promise.all([reaches("a", "Active"), reaches("b", "Inactive")]);
    await manager.close();
    expect(fakes.started.every((fake) => !fake.running)).toBe(true);
    expect(manager.getTerminationReason("a")?.kind).toBe("manager-closed");
    expect(manager.getTerminationReason("b")?.kind).toBe("manager-closed");
  });
});

describe("the work queue with in-memory session servers", () => {
  it("runs different apps side by side and one app's calls in order", async () => {
    // App "slow" never sends its first message: its start holds its own lane for the READY
    // timeout, while "fast" starts, changes state and is Inactive in the meantime.
    const { manager, fakes, reaches, ended } = givenManager({ readyTimeoutMs: 300 }, [
      { silent: true },
    ]);
    const slow = manager.initiateApplication("slow", "Active");
    await manager.initiateApplication("fast", "Active");
    const inOrder = [
      manager.changeSessionServerState("fast", "Inactive"),
      manager.changeSessionServerState("fast", "Active"),
      manager.changeSessionServerState("fast", "Inactive"),
    ];
    await Promise.all(inOrder);
    await reaches("fast", "Inactive", 2);
    expect(manager.getTerminationReason("slow")).toBeUndefined();
    expect(fakes.started[1]?.calls).toEqual([
      "control/setConfiguration",
      "control/setState Inactive",
      "control/setState Active",
      "control/setState Inactive",
    ]);
    await slow;
    await ended("slow", "ready-timeout");
  });

  it("with maxConcurrentApps 1, every call waits for the one before", async () => {
    const { manager, fakes, ended } = givenManager({ readyTimeoutMs: 150, maxConcurrentApps: 1 }, [
      { silent: true },
    ]);
    void manager.initiateApplication("slow", "Active");
    const fast = manager.initiateApplication("fast", "Active");
    await Bun.sleep(50);
    // "fast" has not even been started: its call waits behind "slow"'s.
    expect(fakes.started).toHaveLength(1);
    await fast;
    await ended("slow", "ready-timeout");
    expect(fakes.started).toHaveLength(2);
  });
});

describe("the monitor hub with in-memory session servers", () => {
  it("tells a monitor the app list, then every lifecycle event in order", async () => {
    const { manager, reaches } = givenManager();
    await manager.initiateApplication("before", "Inactive");
    await reaches("before", "Inactive");
    const messages: MonitorMessage[] = [];
    const monitor = manager.addMonitor((message) => messages.push(message));
    cleanups.push(() => monitor.close());
    await manager.initiateApplication("app", "Active");
    await reaches("app", "Active");
    await manager.changeSessionServerState("app", "NotRunning");
    await reaches("app", "NotRunning");
    expect(messages.slice(0, 2)).toEqual([
      { type: "client_state", appId: "before", isStarted: true, state: "Inactive" },
      { type: "client_state_end", count: 1 },
    ]);
    const order = messages.flatMap((m) =>
      m.type === "client_event" && m.appId === "app" ? [m.event] : [],
    );
    expect(order).toEqual(expect.arrayContaining(["start_request", "stop_request", "removed"]));
    expect(order.indexOf("start_request")).toBeLessThan(order.indexOf("stop_request"));
    expect(order.at(-1)).toBe("removed");
  });
});

describe("parking with in-memory session servers (parkInactiveAfterMs)", () => {
  /** The monitor's client events for "app", as they come (returned array fills in). */
  const appEvents = (manager: ServerManager): string[] => {
    const events: string[] = [];
    const monitor = manager.addMonitor((m) => {
      if (m.type === "client_event" && m.appId === "app") events.push(m.event);
    });
    cleanups.push(() => monitor.close());
    return events;
  };

  const parked = async (manager: ServerManager, appId: string) => {
    for (const start = performance.now(); performance.now() - start < 2000; ) {
      const info = manager.listApplications().find((app) => app.appId === appId);
      if (info !== undefined && info.pid === undefined) return;
      await Bun.sleep(2);
    }
    throw new Error(`${appId} was not parked`);
  };

  it("parks an Inactive app with no client, invisibly, and wakes it Active on request", async () => {
    const { manager, fakes, reaches, statesOf } = givenManager({ parkInactiveAfterMs: 20 });
    const events = appEvents(manager);
    await manager.initiateApplication("app", "Inactive");
    await reaches("app", "Inactive");
    await parked(manager, "app");
    // Parked: no process, but the app is Inactive with its socket path, as before.
    expect(fakes.started[0]?.running).toBe(false);
    expect(manager.getState("app")).toBe("Inactive");
    expect(manager.getAppConnectionInfo("app")).toEndWith(".sock");
    expect(manager.getTerminationReason("app")).toBeUndefined();

    await manager.changeSessionServerState("app", "Active");
    await reaches("app", "Active");
    expect(fakes.started).toHaveLength(2);
    expect(fakes.latest.configuration).toMatchObject({ targetState: "Active" });
    // The app manager saw Inactive → Active, nothing of the stop and the start between.
    expect(statesOf("app")).toEqual(["Uninitialised", "Inactive", "Active"]);
    expect(events.filter((e) => e === "start_request")).toHaveLength(1);
    expect(events).not.toContain("stopped_by_server");
    expect(events.at(-1)).toBe("state_changed");
  });

  it("wakes a parked app when a client connects to its socket, and stops one while parked", async () => {
    const { manager, fakes, reaches } = givenManager({ parkInactiveAfterMs: 20 });
    await manager.initiateApplication("app", "Inactive");
    await reaches("app", "Inactive");
    await parked(manager, "app");
    const client = await Bun.connect({
      unix: manager.getAppConnectionInfo("app"),
      socket: { data() {} },
    });
    cleanups.push(() => {
      client.end();
    });
    const woken = () => fakes.started.length === 2 && fakes.latest.configuration !== undefined;
    for (const start = performance.now(); !woken(); ) {
      if (performance.now() - start > 2000) throw new Error("no session server for the client");
      await Bun.sleep(5);
    }
    expect(fakes.latest.configuration).toMatchObject({ targetState: "Inactive" });
    expect(fakes.latest.passedSockets).toHaveLength(2);
    expect(manager.getState("app")).toBe("Inactive");

    // Parked again (the fake never reports a client), then stopped: forgotten as usual. The
    // fake never accepts the client either, so the parked app is woken again at once: under
    // load the poll can miss the moment it had no process, but not the start that follows.
    const starts = fakes.started.length;
    for (const start = performance.now(); fakes.started.length === starts; ) {
      const info = manager.listApplications().find((app) => app.appId === "app");
      if (info !== undefined && info.pid === undefined) break;
      if (performance.now() - start > 5000) throw new Error("app was not parked again");
      await Bun.sleep(2);
    }
    await manager.changeSessionServerState("app", "NotRunning");
    await reaches("app", "NotRunning");
    expect(manager.getState("app")).toBeUndefined();
  });

  it("keeps running a session server that refuses control/park, and parks it once it is free", async () => {
    const { manager, fakes, reaches, statesOf } = givenManager({ parkInactiveAfterMs: 10 });
    await manager.initiateApplication("app", "Inactive");
    await reaches("app", "Inactive");
    // A client the manager has not heard of yet: the server refuses, the manager asks again later.
    const server = fakes.latest;
    server.inUse = true;
    const refusals = () => server.calls.filter((call) => call === "control/park").length;
    for (const start = performance.now(); refusals() < 2; ) {
      if (performance.now() - start > 2000) throw new Error("control/park was not asked again");
      await Bun.sleep(2);
    }
    expect(server.running).toBe(true);
    expect(manager.listApplications()[0]?.pid).toBe(server.pid);

    server.inUse = false;
    await parked(manager, "app");
    expect(server.running).toBe(false);
    expect(server.calls).not.toContain("control/setState NotRunning");
    expect(statesOf("app")).toEqual(["Uninitialised", "Inactive"]);
    expect(manager.getState("app")).toBe("Inactive");
  });

  it("parks quietly when the session server's NotRunning arrives before its answer to control/park", async () => {
    const { manager, fakes, reaches, statesOf } = givenManager({ parkInactiveAfterMs: 10 });
    fakes.next.push({ parkReportsFirst: true });
    const events = appEvents(manager);
    await manager.initiateApplication("app", "Inactive");
    await reaches("app", "Inactive");
    await parked(manager, "app");
    expect(manager.getState("app")).toBe("Inactive");
    expect(statesOf("app")).toEqual(["Uninitialised", "Inactive"]);
    expect(manager.getTerminationReason("app")).toBeUndefined();
    expect(events).not.toContain("stopped_by_itself");
  });

  it("never parks an app that is Active or has a client", async () => {
    const { manager, fakes, reaches } = givenManager({ parkInactiveAfterMs: 10 });
    await manager.initiateApplication("app", "Active");
    await reaches("app", "Active");
    await Bun.sleep(60);
    expect(fakes.latest.running).toBe(true);
    expect(fakes.latest.calls).toEqual(["control/setConfiguration"]);
  });
});
