import { describe, expect, it, setDefaultTimeout } from "bun:test";
import {
  ControlChannelMethods,
  ControlSocketMethods,
  PROTOCOL_VERSION,
  RialtoError,
} from "@rialto/protocol";
import { jsonLines, startTestDaemon } from "./support/lifecycle-daemon.ts";
import { eventText, FULL_LIFECYCLE_EVENTS } from "./support/lifecycle-manager.ts";
import { processGone } from "./support/lifecycle-proc.ts";

// Process tests start real session servers (about 0.5 s each on a 2-core machine).
setDefaultTimeout(30_000);

describe("external monitors over the daemon's control socket", () => {
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

  it("refuses an announce that names another process, and keeps serving", async () => {
    await using d = await startTestDaemon();
    await using monitor = await d.connectMonitor();
    // This connection is the test process; the daemon's own pid is a live process it is not.
    const lie = monitor.peer.call(ControlChannelMethods.announce, {
      appId: "imposter",
      pid: d.daemon.process.pid,
      protocolVersion: PROTOCOL_VERSION,
    });
    await expect(lie).rejects.toMatchObject({
      code: "PERMISSION_DENIED",
      message: `control/announce: pid ${d.daemon.process.pid} is not the connecting process (${process.pid})`,
    });
    const ls = await d.ctl("ls", "--json");
    expect(ls.exitCode).toBe(0);
    expect(ls.stdout).not.toContain("imposter");
    expect(processGone(d.daemon.process.pid)).toBe(false);
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

  it("prints a full lifecycle with `rialtoctl monitor --json` as an external monitor, in order, until SIGINT", async () => {
    await using d = await startTestDaemon();
    // Step 1: `rialtoctl monitor --json` announces itself: no app yet, so only the end marker.
    const monitor = d.ctlProcess("monitor", "--json");
    await monitor.waitForOutput('"client_state_end"');
    // Step 2: rialtoctl drives an app NotRunning → Inactive → Active → Inactive → NotRunning.
    for (const command of [
      ["start", "app1"],
      ["set", "app1", "active"],
      ["set", "app1", "inactive"],
      ["set", "app1", "stopped"],
    ]) {
      expect((await d.ctl(...command)).exitCode).toBe(0);
    }
    await monitor.waitForOutput('"event":"removed"');
    // Step 3: SIGINT: the monitor quits and exits 0.
    monitor.process.kill("SIGINT");
    expect(await monitor.finished()).toBe(0);
    const lines = jsonLines(monitor.stdout());
    expect(lines[0]).toEqual({ type: "client_state_end", count: 0 });
    expect(lines.slice(1).map((line) => `${line.type} ${line.appId} ${eventText(line)}`)).toEqual(
      FULL_LIFECYCLE_EVENTS.map((event) => `client_event app1 ${event}`),
    );
    // Step 4: the text form prints the snapshot of a running app, then the end marker.
    expect((await d.ctl("start", "app2", "--active")).exitCode).toBe(0);
    const text = d.ctlProcess("monitor");
    await text.waitForOutput("client_state app2 Active started\nclient_state_end 1\n");
    text.process.kill("SIGTERM");
    expect(await text.finished()).toBe(0);
  });
});
