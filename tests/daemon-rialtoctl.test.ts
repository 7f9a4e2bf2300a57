import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync } from "node:fs";
import { jsonLines, startTestDaemon } from "./support/lifecycle-daemon.ts";
import { processGone } from "./support/lifecycle-proc.ts";
import { waitFor } from "./support/wait.ts";

// Process tests start real session servers (about 0.5 s each on a 2-core machine).
setDefaultTimeout(30_000);

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

  it("runs by name from the repository root: bun rialtoctl, bun rialto-server-manager", async () => {
    await using d = await startTestDaemon();
    expect((await d.ctl("start", "app1")).exitCode).toBe(0);
    const root = new URL("..", import.meta.url).pathname;
    const run = async (...args: string[]) => {
      const child = Bun.spawn([process.execPath, ...args], { cwd: root, stdout: "pipe" });
      const [stdout, exitCode] = [await new Response(child.stdout).text(), await child.exited];
      return { stdout, exitCode };
    };
    const ls = await run("rialtoctl", "--control-socket", d.controlSocket, "ls", "--json");
    expect(ls.exitCode).toBe(0);
    expect(jsonLines(ls.stdout).map((app) => [app.appId, app.state])).toEqual([
      ["app1", "Inactive"],
    ]);
    const help = await run("rialto-server-manager", "--help");
    expect(help).toMatchObject({
      exitCode: 0,
      stdout: expect.stringContaining("usage: rialto-server-manager"),
    });
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
