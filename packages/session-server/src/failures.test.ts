import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  isListening,
  listenUnix,
  RialtoError,
  type SocketTransport,
  sideChannelPath,
} from "@rialto/protocol";
import { ShmError } from "@rialto/shm";
import { SessionServerExitCode } from "./exit-codes.ts";
import { PROCESS_TEST_TIMEOUT_MS, WAIT_MS, within } from "./test-support/async-queue.ts";
import { InProcessSessionServer } from "./test-support/in-process-session-server.ts";
import { SessionServerProcess } from "./test-support/session-server-process.ts";
import { TestClient } from "./test-support/test-client.ts";

setDefaultTimeout(PROCESS_TEST_TIMEOUT_MS);

/** Starts a process that listens on `path`, then SIGKILLs it: the socket file stays behind. */
async function leaveStaleSocket(path: string): Promise<void> {
  const script = `Bun.listen({ unix: ${JSON.stringify(path)}, socket: { data() {} } }); console.log("listening");`;
  const child = Bun.spawn({
    cmd: [process.execPath, "-e", script],
    stdout: "pipe",
    stderr: "ignore",
  });
  try {
    const reader = child.stdout.getReader();
    await within(reader.read(), "the stale-socket process to listen", WAIT_MS);
    reader.releaseLock();
  } finally {
    child.kill("SIGKILL");
    await child.exited;
  }
}

const failingAllocation = () => {
  throw new ShmError("ERRNO", 'memfd_create("rialto-av") failed: EMFILE (injected)', {
    errno: "EMFILE",
    syscall: "memfd_create",
  });
};

describe("failure branches (real process)", () => {
  it("reports Error, leaves nothing behind and exits 1 when the socket directory does not exist", async () => {
    await using server = await SessionServerProcess.spawn();
    await server.manager.expectState("Uninitialised");
    const socketPath = join(server.dir, "missing", "app.sock");

    // Step 1: the configuration is received...
    expect(await server.manager.configure(server.configuration({ socketPath }))).toEqual({});
    // Step 2: ...and fails: Error with a reason naming the path, then a non-zero exit.
    const error = await server.manager.expectState("Error");
    expect(error.reason).toContain(socketPath);
    expect(await server.waitForExit()).toBe(SessionServerExitCode.Error);
    expect(readdirSync(server.dir)).toEqual([]);
  });

  it("reports Error without stealing a socket another server listens on", async () => {
    await using server = await SessionServerProcess.spawn();
    await server.manager.expectState("Uninitialised");
    // Given: someone already serves the app's socket path (and keeps what it accepts open:
    // listenUnix's probe can mistake a listener that resets connections at once for a stale file).
    const accepted: SocketTransport[] = [];
    await using other = await listenUnix(server.socketPath, (transport) =>
      accepted.push(transport),
    );

    await server.configure();
    const error = await server.manager.expectState("Error");
    expect(error.reason).toContain("in use");
    expect(await server.waitForExit()).toBe(SessionServerExitCode.Error);

    // The other server's socket is untouched and still answers; no side channel was left.
    expect(await isListening(other.path)).toBe(true);
    expect(existsSync(sideChannelPath(server.socketPath))).toBe(false);
    for (const transport of accepted) transport.close();
  });

  it("replaces a stale socket file nobody listens on", async () => {
    await using server = await SessionServerProcess.spawn();
    await server.manager.expectState("Uninitialised");
    // Given: a socket file left by a server that was killed while listening.
    await leaveStaleSocket(server.socketPath);
    expect(statSync(server.socketPath).isSocket()).toBe(true);
    expect(await isListening(server.socketPath)).toBe(false);

    await server.configure();
    await server.manager.expectState("Inactive");
    await using client = await TestClient.connect(server.socketPath);
    expect((await client.register()).clientId).toBeGreaterThan(0);
  });

  it("cleans up and exits non-zero when the manager's channel closes", async () => {
    await using server = await SessionServerProcess.configured({ targetState: "Active" });
    await using client = await TestClient.registered(server.socketPath);

    // Step 1: the manager dies (its end of the socketpair closes).
    server.manager.peer.close();

    // Step 2: the session server closes its clients, removes its sockets and exits 3.
    await within(client.closed, "client connection to close", WAIT_MS);
    expect(await server.waitForExit()).toBe(SessionServerExitCode.ControlChannelLost);
    expect(existsSync(server.socketPath)).toBe(false);
    expect(existsSync(sideChannelPath(server.socketPath))).toBe(false);
  });

  it("cleans up and exits 143 on SIGTERM", async () => {
    await using server = await SessionServerProcess.configured({ targetState: "Active" });

    server.child.kill("SIGTERM");
    expect(await server.waitForExit()).toBe(SessionServerExitCode.Terminated);
    expect(existsSync(server.socketPath)).toBe(false);
    expect(server.manager.states.pending).toEqual([]);
  });

  it("exits 2 when started without a control channel on fd 3", async () => {
    await using server = await SessionServerProcess.spawn({ controlChannel: false });
    expect(await server.waitForExit()).toBe(SessionServerExitCode.StartupFailed);
    const line = await server.logs.waitFor((l) => l.level === 60, "fatal line");
    expect(String(line.msg)).toContain("fd 3");
  });

  it("exits 2 on a bad argument", async () => {
    await using server = await SessionServerProcess.spawn({ args: ["--log-level", "loud"] });
    expect(await server.waitForExit()).toBe(SessionServerExitCode.StartupFailed);
  });
});

describe("shared memory allocation failure (in process, memfd creation injected)", () => {
  it("on Inactive → Active frees what it made, reports Error and exits 1", async () => {
    await using server = await InProcessSessionServer.start({
      allocateSharedMemory: failingAllocation,
    });
    await server.manager.expectState("Uninitialised");
    await server.manager.configure(server.configuration());
    await server.manager.expectState("Inactive");

    expect(await server.manager.setState("Active")).toEqual({});
    const error = await server.manager.expectState("Error");
    expect(error.reason).toContain("EMFILE");
    expect(await server.running.exitCode).toBe(SessionServerExitCode.Error);
    expect(existsSync(server.socketPath)).toBe(false);
    expect(existsSync(sideChannelPath(server.socketPath))).toBe(false);
  });

  it("on a configuration to Active removes the socket it created, reports Error and exits 1", async () => {
    await using server = await InProcessSessionServer.start({
      allocateSharedMemory: failingAllocation,
    });
    await server.manager.expectState("Uninitialised");
    await server.manager.configure(server.configuration({ targetState: "Active" }));

    expect((await server.manager.expectState("Error")).reason).toContain(
      "control/setConfiguration",
    );
    expect(await server.running.exitCode).toBe(SessionServerExitCode.Error);
    expect(readdirSync(server.dir)).toEqual([]);
    // Nothing is accepted after Error.
    const late = await server.manager.setState("Inactive").catch((e: unknown) => e);
    expect(late).toBeInstanceOf(RialtoError);
  });
});
