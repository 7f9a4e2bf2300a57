import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PROTOCOL_VERSION, RialtoError } from "@rialto/protocol";
import { SessionServerExitCode } from "./exit-codes.ts";
import { PROCESS_TEST_TIMEOUT_MS } from "./test-support/async-queue.ts";
import { appExists, FakeDaemon } from "./test-support/fake-daemon.ts";
import { testConfiguration } from "./test-support/fake-manager.ts";
import { SessionServerProcess, socketDir } from "./test-support/session-server-process.ts";
import { TestClient } from "./test-support/test-client.ts";

setDefaultTimeout(PROCESS_TEST_TIMEOUT_MS);

describe("joined mode (started from a shell, real process)", () => {
  it("announces itself on the daemon's control socket and is configured over that connection", async () => {
    using dir = socketDir();
    await using daemon = await FakeDaemon.listen(join(dir.path, "control.sock"));

    // Step 1: RIALTO_CONTROL_SOCKET=<path> rialto-session-server --app-id shell-app
    await using server = await SessionServerProcess.spawn({
      controlChannel: false,
      args: ["--app-id", "shell-app"],
      env: { ...process.env, RIALTO_CONTROL_SOCKET: daemon.path },
    });

    // Step 2: the announce names the app, the process and the protocol version.
    const { params, manager } = await daemon.announced.next("control/announce");
    expect(params).toEqual({
      appId: "shell-app",
      pid: server.pid,
      protocolVersion: PROTOCOL_VERSION,
    });

    // Step 3: the same connection is now the control channel: Uninitialised comes first.
    expect(await manager.nextState()).toEqual({ state: "Uninitialised" });

    // Step 4: a configuration for another app is refused; the announced app's is taken.
    const socketPath = join(server.dir, "shell.sock");
    const wrongApp = await manager
      .configure(testConfiguration(socketPath, { appId: "other-app" }))
      .catch((e: unknown) => e);
    expect(wrongApp).toBeInstanceOf(RialtoError);
    expect((wrongApp as RialtoError).code).toBe("INVALID_ARGUMENT");
    await manager.configure(testConfiguration(socketPath, { appId: "shell-app" }));
    await manager.expectState("Inactive");
    await using client = await TestClient.connect(socketPath);
    await client.register();

    // Step 5: NotRunning ends it as for a spawned server.
    await manager.setState("NotRunning");
    await manager.expectState("NotRunning");
    expect(await server.waitForExit()).toBe(SessionServerExitCode.Stopped);
    expect(existsSync(socketPath)).toBe(false);
  });

  it("exits 2 when the daemon refuses the announce", async () => {
    using dir = socketDir();
    await using daemon = await FakeDaemon.listen(
      join(dir.path, "control.sock"),
      appExists("taken"),
    );
    await using server = await SessionServerProcess.spawn({
      controlChannel: false,
      args: ["--app-id", "taken", "--control-socket", daemon.path],
    });
    expect(await server.waitForExit()).toBe(SessionServerExitCode.StartupFailed);
    const line = await server.logs.waitFor((l) => l.level === 60, "fatal line");
    expect(String(line.msg)).toContain("already exists");
  });

  it("exits 2 when no daemon listens on the control socket", async () => {
    using dir = socketDir();
    await using server = await SessionServerProcess.spawn({
      controlChannel: false,
      args: ["--app-id", "lonely"],
      env: { ...process.env, RIALTO_CONTROL_SOCKET: join(dir.path, "nobody.sock") },
    });
    expect(await server.waitForExit()).toBe(SessionServerExitCode.StartupFailed);
  });
});
