import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync } from "node:fs";
import { ControlSocketMethods, RialtoError } from "@rialto/protocol";
import { processGone, startTestDaemon } from "../test-support/daemon-harness.ts";
import { waitFor } from "../test-support/harness.ts";

// Process tests start real session servers (about 0.5 s each on a 2-core machine).
setDefaultTimeout(30_000);

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .trim()
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));
}

describe("rialto-server-manager and rialtoctl", () => {
  it("serves every call of the API through rialtoctl, as text and as --json", async () => {
    await using d = await startTestDaemon();
    // Step 1: start two apps; start waits until the target state is reached.
    const start = await d.ctl("start", "app1");
    expect(start.exitCode).toBe(0);
    expect(start.stdout).toMatch(
      new RegExp(`^app1 Inactive ${d.runtimeDir}/app1-[0-9a-f]{8}\\.sock\\n$`),
    );
    const startActive = await d.ctl(
      "start",
      "app2",
      "--active",
      "--max-playbacks",
      "2",
      "--web-audio",
      "--json",
    );
    expect(startActive.exitCode).toBe(0);
    expect(jsonLines(startActive.stdout)).toEqual([
      { appId: "app2", state: "Active", pid: expect.any(Number), socketPath: expect.any(String) },
    ]);
    // Step 2: ls, info.
    const ls = await d.ctl("ls", "--json");
    expect(jsonLines(ls.stdout).map((app) => [app.appId, app.state])).toEqual([
      ["app1", "Inactive"],
      ["app2", "Active"],
    ]);
    const lsText = await d.ctl("ls");
    expect(lsText.stdout.split("\n")[0]).toMatch(/^APP\s+STATE\s+PID\s+SOCKET$/);
    expect(lsText.stdout).toMatch(/\napp2\s+Active\s+\d+\s+\//);
    const info = await d.ctl("info", "app1", "--json");
    const [details] = jsonLines(info.stdout);
    expect(details).toMatchObject({ appId: "app1", state: "Inactive", pid: expect.any(Number) });
    expect(String(details?.socketPath)).toStartWith(`${d.runtimeDir}/app1-`);
    const infoText = await d.ctl("info", "app1");
    expect(infoText.stdout).toContain("state: Inactive\n");
    // Step 3: set, log-level.
    const set = await d.ctl("set", "app1", "active");
    expect(set).toMatchObject({ exitCode: 0, stdout: "app1 Active\n" });
    const logLevel = await d.ctl("log-level", "debug", "app1", "--json");
    expect(jsonLines(logLevel.stdout)).toEqual([{ level: "debug", appId: "app1" }]);
    expect((await d.ctl("log-level", "warn")).stdout).toBe(
      "log level warn (manager and every app)\n",
    );
    // Step 4: stop; the session server exits and the app is forgotten.
    const pid = details?.pid as number;
    const stop = await d.ctl("set", "app1", "stopped", "--json");
    expect(jsonLines(stop.stdout)).toEqual([{ appId: "app1", state: "NotRunning" }]);
    await waitFor("app1's session server to be reaped", () => processGone(pid));
    expect(jsonLines((await d.ctl("ls", "--json")).stdout).map((app) => app.appId)).toEqual([
      "app2",
    ]);
  });

  it("fails with a one-line message and a non-zero exit code", async () => {
    await using d = await startTestDaemon();
    // A failed request: exit 1, one line on stderr, and a JSON error object with --json.
    const unknown = await d.ctl("info", "nope");
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toBe(
      'rialtoctl: UNKNOWN_APP: getAppConnectionInfo: unknown app "nope"\n',
    );
    const unknownJson = await d.ctl("set", "nope", "active", "--json");
    expect(unknownJson.exitCode).toBe(1);
    expect(jsonLines(unknownJson.stdout)).toEqual([
      { error: { code: "UNKNOWN_APP", message: 'changeSessionServerState: unknown app "nope"' } },
    ]);
    expect((await d.ctl("start", "app1", "--no-wait")).exitCode).toBe(0);
    const twice = await d.ctl("start", "app1");
    expect(twice.exitCode).toBe(1);
    expect(twice.stderr).toStartWith(
      'rialtoctl: APP_EXISTS: initiateApplication: app "app1" already exists',
    );
    expect(twice.stderr.trim().split("\n")).toHaveLength(1);
    // Bad usage: exit 2, the message first.
    const badState = await d.ctl("set", "app1", "sideways");
    expect(badState.exitCode).toBe(2);
    expect(badState.stderr.split("\n")[0]).toBe(
      'rialtoctl: INVALID_ARGUMENT: set: state "sideways" must be inactive, active or stopped',
    );
    expect((await d.ctl("bogus")).exitCode).toBe(2);
    expect((await d.ctl("start", "bad/id")).exitCode).toBe(2);
    // No daemon at that path.
    const noDaemon = await d.ctl("--control-socket", `${d.runtimeDir}/none.sock`, "ls");
    expect(noDaemon.exitCode).toBe(1);
    expect(noDaemon.stderr).toStartWith("rialtoctl: CONNECTION_LOST: cannot connect to");
  });

  it("gives external monitors the state list, the end marker and the events, and adopts a joined session server", async () => {
    await using d = await startTestDaemon();
    expect((await d.ctl("start", "app1")).exitCode).toBe(0);
    // Step 1: a monitor announces itself: one client_state per app, then the end marker.
    await using monitor = await d.connectMonitor();
    expect(monitor.messages).toEqual([
      { type: "client_state", appId: "app1", isStarted: true, state: "Inactive" },
      { type: "client_state_end", count: 1 },
    ]);
    // Step 2: a session server started from a shell joins and is configured.
    const shell = d.joinSessionServer("shell1");
    await monitor.waitForEvent("shell1", "state_changed", "Inactive");
    const events = monitor.messages.flatMap((m) =>
      m.type === "client_event" && m.appId === "shell1" ? [`${m.event}:${m.state ?? ""}`] : [],
    );
    expect(events).toEqual([
      "joined:",
      "ready:Uninitialised",
      "state_changed:Uninitialised",
      "state_changed:Inactive",
    ]);
    const shellInfo = jsonLines((await d.ctl("info", "shell1", "--json")).stdout)[0];
    expect(shellInfo).toMatchObject({ state: "Inactive", pid: shell.process.pid });
    // Step 3: monitor/reset resends the list.
    monitor.messages.length = 0;
    await monitor.peer.call(ControlSocketMethods.monitorReset, {});
    expect(monitor.messages.map((m) => (m.type === "client_state_end" ? m.count : m.type))).toEqual(
      ["client_state", "client_state", 2],
    );
    // Step 4: after monitor/quit nothing more arrives; a second monitor sees the stop.
    await using watcher = await d.connectMonitor();
    await monitor.peer.call(ControlSocketMethods.monitorQuit, {});
    const seen = monitor.messages.length;
    expect((await d.ctl("set", "shell1", "stopped")).exitCode).toBe(0);
    await watcher.waitForEvent("shell1", "removed");
    expect(await shell.finished()).toBe(0);
    expect(monitor.messages).toHaveLength(seen);
    // A reset from a connection that is not a monitor is refused.
    const refused = await monitor.peer.call(ControlSocketMethods.monitorReset, {}).catch((e) => e);
    expect(refused).toBeInstanceOf(RialtoError);
    expect((refused as RialtoError).code).toBe("INVALID_STATE");
  });

  it("reports a joined session server that crashes and forgets it (it is not restarted)", async () => {
    await using d = await startTestDaemon();
    await using monitor = await d.connectMonitor();
    const shell = d.joinSessionServer("shell1");
    await monitor.waitForEvent("shell1", "state_changed", "Inactive");
    shell.process.kill("SIGKILL");
    await monitor.waitForEvent("shell1", "removed");
    const events = monitor.messages.flatMap((m) =>
      m.type === "client_event" && m.appId === "shell1" ? [`${m.event}:${m.state ?? ""}`] : [],
    );
    expect(events.slice(-4)).toEqual([
      "state_changed:Error",
      "stopped_by_itself:",
      "state_changed:NotRunning",
      "removed:",
    ]);
    expect(processGone(shell.process.pid)).toBe(true);
  });

  it("never tells a session server's own monitor about its app", async () => {
    await using d = await startTestDaemon();
    expect((await d.ctl("start", "app1")).exitCode).toBe(0);
    expect((await d.ctl("start", "app2")).exitCode).toBe(0);
    await using own = await d.connectMonitor();
    own.messages.length = 0;
    await own.peer.call(ControlSocketMethods.monitorAnnounce, { appId: "app1" });
    expect(own.messages).toEqual([
      { type: "client_state", appId: "app2", isStarted: true, state: "Inactive" },
      { type: "client_state_end", count: 1 },
    ]);
    await using other = await d.connectMonitor();
    expect((await d.ctl("set", "app1", "active")).exitCode).toBe(0);
    expect((await d.ctl("set", "app2", "active")).exitCode).toBe(0);
    await other.waitForEvent("app2", "state_changed", "Active");
    await own.waitForEvent("app2", "state_changed", "Active");
    expect(own.messages.some((m) => m.type === "client_event" && m.appId === "app1")).toBe(false);
    expect(other.messages.some((m) => m.type === "client_event" && m.appId === "app1")).toBe(true);
  });

  it("prints monitor messages with `rialtoctl monitor` until SIGINT", async () => {
    await using d = await startTestDaemon();
    const monitor = d.ctlProcess("monitor", "--json");
    await monitor.waitForOutput('"client_state_end"');
    expect((await d.ctl("start", "app1", "--active")).exitCode).toBe(0);
    await monitor.waitForOutput('"state":"Active"');
    monitor.process.kill("SIGINT");
    expect(await monitor.finished()).toBe(0);
    const lines = jsonLines(monitor.stdout());
    expect(lines[0]).toEqual({ type: "client_state_end", count: 0 });
    expect(lines.map((line) => line.event).filter(Boolean)).toEqual([
      "start_request",
      "started",
      "ready",
      "state_changed",
      "state_changed",
    ]);
    const text = d.ctlProcess("monitor");
    await text.waitForOutput("client_state app1 Active started\nclient_state_end 1\n");
    text.process.kill("SIGTERM");
    expect(await text.finished()).toBe(0);
  });

  it("stops every app on SIGTERM, exits 0 and leaves no process behind", async () => {
    await using d = await startTestDaemon();
    expect((await d.ctl("start", "app1", "--active")).exitCode).toBe(0);
    const shell = d.joinSessionServer("shell1");
    await using watcher = await d.connectMonitor();
    await watcher.waitForEvent("shell1", "state_changed", "Inactive");
    const pids = jsonLines((await d.ctl("ls", "--json")).stdout).map((app) => app.pid as number);
    expect(pids).toHaveLength(2);
    expect(pids).toContain(shell.process.pid);
    // Step 1: SIGTERM: every app is stopped cleanly and the daemon exits 0.
    d.daemon.process.kill("SIGTERM");
    expect(await d.daemon.finished()).toBe(0);
    // Step 2: nothing is left: no session server (joined or spawned), no control socket.
    expect(await shell.finished()).toBe(0);
    for (const pid of pids) expect(processGone(pid)).toBe(true);
    expect(existsSync(d.controlSocket)).toBe(false);
  });
});
