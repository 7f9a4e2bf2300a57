import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import {
  isListening,
  listenUnix,
  RialtoError,
  type SocketTransport,
  sideChannelPath,
} from "@rialto/protocol";
import {
  createTestManager,
  pidOf,
  REAL_SESSION_SERVER,
  SILENT_SESSION_SERVER,
  stalledSessionServer,
} from "./support/lifecycle-manager.ts";
import { processGone } from "./support/lifecycle-proc.ts";
import { waitFor } from "./support/wait.ts";

// Process tests start real session servers (about 0.5 s each on a 2-core machine).
setDefaultTimeout(30_000);

describe("ServerManager failures", () => {
  it("kills a session server that never sends its first message and reports Error (READY timeout)", async () => {
    await using t = createTestManager({
      sessionServerCommand: SILENT_SESSION_SERVER,
      readyTimeoutMs: 300,
    });
    // Step 1: the spawn succeeds, so the call resolves OK.
    await t.manager.initiateApplication("mute", "Inactive");
    const socketPath = t.manager.getAppConnectionInfo("mute");
    // The manager bound the app's socket before spawning (issue 15).
    expect(existsSync(socketPath)).toBe(true);
    const pid = pidOf(t.manager, "mute") as number;
    // Step 2: the READY timer expires: Error, the process is killed, the app forgotten.
    await t.waitForState("mute", "NotRunning");
    expect(t.statesOf("mute")).toEqual(["Error", "NotRunning"]);
    expect(processGone(pid)).toBe(true);
    // The app is forgotten: its socket, side channel and lock file are gone with it.
    expect(readdirSync(t.runtimeDir)).toEqual([]);
    expect(t.manager.getTerminationReason("mute")).toMatchObject({
      kind: "ready-timeout",
      exit: { exitCode: null, signal: "SIGKILL" },
    });
    expect(t.eventsOf("mute")).toEqual([
      "start_request:Inactive",
      "started",
      "open_error:Error",
      "state_changed:Error",
      "stopped_by_server",
      "state_changed:NotRunning",
      "removed",
    ]);
  });

  it("kills a session server that accepts its configuration but never reaches the state (transition timeout)", async () => {
    await using t = createTestManager({
      sessionServerCommand: stalledSessionServer("configuration"),
      transitionTimeoutMs: 300,
    });
    await t.manager.initiateApplication("stuck", "Inactive");
    const pid = pidOf(t.manager, "stuck") as number;
    await t.waitForState("stuck", "NotRunning");
    // It never reached Inactive, so there is nothing to restart.
    expect(t.statesOf("stuck")).toEqual(["Uninitialised", "Error", "NotRunning"]);
    expect(processGone(pid)).toBe(true);
    expect(t.manager.getTerminationReason("stuck")).toMatchObject({
      kind: "transition-timeout",
      detail: "no new state within 300 ms",
      exit: { exitCode: null, signal: "SIGKILL" },
    });
    expect(t.eventsOf("stuck")).toEqual([
      "start_request:Inactive",
      "started",
      "ready:Uninitialised",
      "state_changed:Uninitialised",
      "open_error:Error",
      "state_changed:Error",
      "stopped_by_server",
      "state_changed:NotRunning",
      "removed",
    ]);
  });

  it("kills a session server that accepts a state change but never reports it, and restarts the app (transition timeout)", async () => {
    await using t = createTestManager({
      sessionServerCommand: stalledSessionServer("state"),
      transitionTimeoutMs: 300,
    });
    await t.manager.initiateApplication("stuck", "Inactive");
    await t.waitForState("stuck", "Inactive");
    const firstPid = pidOf(t.manager, "stuck") as number;
    const socketPath = t.manager.getAppConnectionInfo("stuck");
    await t.manager.changeSessionServerState("stuck", "Active");
    // Error, then the restart brings it back to the state it had reached (Inactive), same socket.
    await waitFor("the restart to reach Inactive", () => t.statesOf("stuck").length >= 5);
    expect(t.statesOf("stuck")).toEqual([
      "Uninitialised",
      "Inactive",
      "Error",
      "Uninitialised",
      "Inactive",
    ]);
    expect(processGone(firstPid)).toBe(true);
    expect(pidOf(t.manager, "stuck")).not.toBe(firstPid);
    expect(t.manager.getAppConnectionInfo("stuck")).toBe(socketPath);
    expect(t.eventsOf("stuck")).toContain("state_error:Error");
    expect(t.eventsOf("stuck")).toContain("restarted:Inactive");
  });

  it("restarts a crashed Inactive app with the same config and socket (restartOnFailure)", async () => {
    await using t = createTestManager();
    const firstPid = await t.givenApp("app1", "Active", { resources: { maxPlaybackSessions: 2 } });
    const socketPath = t.manager.getAppConnectionInfo("app1");
    // Step 1: the session server dies without being asked to.
    process.kill(firstPid, "SIGKILL");
    // Step 2: Error, then a new process configured like the first one.
    await t.waitForState("app1", "Active", 2);
    expect(t.statesOf("app1")).toEqual([
      "Uninitialised",
      "Active",
      "Error",
      "Uninitialised",
      "Active",
    ]);
    const secondPid = pidOf(t.manager, "app1") as number;
    expect(secondPid).not.toBe(firstPid);
    expect(processGone(firstPid)).toBe(true);
    expect(t.manager.getAppConnectionInfo("app1")).toBe(socketPath);
    expect(t.eventsOf("app1").slice(5)).toEqual([
      "state_changed:Error",
      "stopped_by_itself",
      "restarted:Active",
      "start_request:Active",
      "started",
      "ready:Uninitialised",
      "state_changed:Uninitialised",
      "state_changed:Active",
    ]);
  });

  it("forgets a crashed app when restartOnFailure is off", async () => {
    await using t = createTestManager({ restartOnFailure: false });
    const pid = await t.givenApp("app1", "Inactive");
    const socketPath = t.manager.getAppConnectionInfo("app1");
    process.kill(pid, "SIGKILL");
    await t.waitForState("app1", "NotRunning");
    expect(t.statesOf("app1")).toEqual(["Uninitialised", "Inactive", "Error", "NotRunning"]);
    // The socket file the crashed server left behind is gone too.
    expect(existsSync(socketPath)).toBe(false);
    expect(t.manager.getState("app1")).toBeUndefined();
    expect(t.manager.getTerminationReason("app1")).toMatchObject({
      kind: "crashed",
      exit: { signal: "SIGKILL" },
    });
    expect(t.eventsOf("app1").slice(-4)).toEqual([
      "state_changed:Error",
      "stopped_by_itself",
      "state_changed:NotRunning",
      "removed",
    ]);
  });

  it("removes the fd side channel a killed session server left behind", async () => {
    await using t = createTestManager({ restartOnFailure: false });
    const pid = await t.givenApp("app1", "Inactive");
    const socketPath = t.manager.getAppConnectionInfo("app1");
    expect(existsSync(sideChannelPath(socketPath))).toBe(true);
    process.kill(pid, "SIGKILL");
    await t.waitForState("app1", "NotRunning");
    expect(existsSync(socketPath)).toBe(false);
    expect(existsSync(sideChannelPath(socketPath))).toBe(false);
  });

  it("kills a hung session server after the unanswered pings and restarts it on the same socket", async () => {
    await using t = createTestManager({ healthCheckIntervalMs: 100, failedPingsBeforeRecovery: 3 });
    const hungPid = await t.givenApp("app1", "Inactive");
    const socketPath = t.manager.getAppConnectionInfo("app1");
    // Step 1: the process stops answering (a stopped process answers nothing, like a deadlock).
    process.kill(hungPid, "SIGSTOP");
    // Step 2: three pings go unanswered: Error, killed, restarted with the same socket.
    await t.waitForState("app1", "Inactive", 2);
    expect(processGone(hungPid)).toBe(true);
    expect(t.statesOf("app1")).toEqual([
      "Uninitialised",
      "Inactive",
      "Error",
      "Uninitialised",
      "Inactive",
    ]);
    expect(t.manager.getAppConnectionInfo("app1")).toBe(socketPath);
    expect(pidOf(t.manager, "app1")).not.toBe(hungPid);
    expect(t.eventsOf("app1")).toContain("stopped_by_server");
    expect(t.eventsOf("app1")).toContain("restarted:Inactive");
  });

  it("reports state_error and stops a session server that does not answer SetState", async () => {
    await using t = createTestManager({ transitionTimeoutMs: 300 });
    const pid = await t.givenApp("app1", "Inactive");
    process.kill(pid, "SIGSTOP");
    let error: unknown;
    await t.manager.changeSessionServerState("app1", "Active").catch((caught) => {
      error = caught;
    });
    expect((error as RialtoError).code).toBe("TIMEOUT");
    await t.waitForState("app1", "NotRunning");
    expect(processGone(pid)).toBe(true);
    expect(t.statesOf("app1")).toEqual(["Uninitialised", "Inactive", "Error", "NotRunning"]);
    expect(t.eventsOf("app1").slice(-6)).toEqual([
      "state_request:Active",
      "state_error:Error",
      "state_changed:Error",
      "stopped_by_server",
      "state_changed:NotRunning",
      "removed",
    ]);
    expect(t.manager.getTerminationReason("app1")?.kind).toBe("state-change-failed");
  });

  it("rejects with SPAWN_FAILED when the session server cannot be started", async () => {
    await using t = createTestManager({
      sessionServerCommand: ["/nonexistent/rialto-session-server"],
    });
    let error: unknown;
    await t.manager.initiateApplication("app1", "Inactive").catch((caught) => {
      error = caught;
    });
    expect(error).toBeInstanceOf(RialtoError);
    expect((error as RialtoError).code).toBe("SPAWN_FAILED");
    expect(t.manager.getState("app1")).toBeUndefined();
    expect(t.eventsOf("app1")).toEqual([
      "start_request:Inactive",
      "open_error",
      "state_changed:NotRunning",
      "removed",
    ]);
  });

  it("reports Error when the session server exits before its first message", async () => {
    await using t = createTestManager({
      sessionServerCommand: [...REAL_SESSION_SERVER, "--no-such-option"],
    });
    await t.manager.initiateApplication("app1", "Inactive");
    await t.waitForState("app1", "NotRunning");
    expect(t.statesOf("app1")).toEqual(["Error", "NotRunning"]);
    expect(t.manager.getTerminationReason("app1")).toMatchObject({
      kind: "crashed",
      exit: { exitCode: 2 },
    });
    expect(t.eventsOf("app1")).toContain("open_error:Error");
    expect(t.eventsOf("app1")).toContain("stopped_by_itself");
  });

  it("refuses an unusable socket path up front: nothing is started and nothing is left bound", async () => {
    await using t = createTestManager();
    // Step 1: the manager cannot create the app's socket in a directory that does not exist.
    const socketPath = `${t.runtimeDir}/missing/app.sock`;
    let error: unknown;
    await t.manager
      .initiateApplication("app1", "Inactive", { sessionManagementSocketName: socketPath })
      .catch((caught) => {
        error = caught;
      });
    // Step 2: the caller gets the error (the manager owns the socket, SPEC 3 sequence 5), no
    // process was spawned, the app is forgotten.
    expect(error).toBeInstanceOf(RialtoError);
    expect((error as RialtoError).code).toBe("PERMISSION_DENIED");
    expect((error as RialtoError).message).toContain(socketPath);
    expect(t.manager.getTerminationReason("app1")?.kind).toBe("socket-unavailable");
    expect(t.eventsOf("app1")).toEqual([
      "start_request:Inactive",
      "open_error",
      "state_changed:NotRunning",
      "removed",
    ]);
    // Step 3: nothing is left bound: no socket, no side channel, no lock, no directory made for it.
    expect(readdirSync(t.runtimeDir)).toEqual([]);
    expect(t.manager.listApplications()).toEqual([]);
  });

  it("refuses a socket path another process serves without stealing it", async () => {
    await using t = createTestManager();
    // Given: someone already serves the socket path (keeping what it accepts, like a live server).
    const accepted: SocketTransport[] = [];
    await using other = await listenUnix(`${t.runtimeDir}/taken.sock`, (transport) =>
      accepted.push(transport),
    );
    let error: unknown;
    await t.manager
      .initiateApplication("app1", "Active", { sessionManagementSocketName: other.path })
      .catch((caught) => {
        error = caught;
      });
    expect((error as RialtoError).code).toBe("PERMISSION_DENIED");
    expect(t.manager.getState("app1")).toBeUndefined();
    expect(t.manager.getTerminationReason("app1")?.kind).toBe("socket-unavailable");
    // The other server's socket is untouched and still answers; the manager left nothing.
    expect(await isListening(other.path)).toBe(true);
    expect(readdirSync(t.runtimeDir)).toEqual(["taken.sock"]);
    for (const transport of accepted) transport.close();
  });
});
