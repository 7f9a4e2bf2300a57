import { mkdtempSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  ControlSocketEvents,
  ControlSocketMethods,
  connectUnix,
  isListening,
  type MonitorMessage,
  RpcPeer,
} from "@rialto/protocol";
import { defaultSessionServerCommand } from "@rialto/server-manager";
import { REAL_SESSION_SERVER } from "./lifecycle-manager.ts";
import { assertNoClientSocketsLeft, childPids, processGone } from "./lifecycle-proc.ts";
import { waitFor } from "./wait.ts";

/** The `rialto-server-manager` program. */
export const DAEMON_MAIN = fileURLToPath(import.meta.resolve("@rialto/server-manager/daemon"));
/** The `rialtoctl` program. */
export const CLI_MAIN = fileURLToPath(import.meta.resolve("@rialto/server-manager/cli"));

/** The JSON objects of `--json` output, one per non-empty line. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .trim()
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));
}

/** What a finished command printed. */
export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A process whose output is collected while it runs. */
export interface RunningProcess extends AsyncDisposable {
  readonly process: Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** Everything printed on stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Waits until stdout contains `text`. */
  waitForOutput(text: string): Promise<void>;
  /** Resolves with the exit code once the process exited and its output was read to the end. */
  finished(): Promise<number>;
}

/** Spawns `cmd` collecting its output; disposing kills it (SIGKILL) if it still runs. */
export function startProcess(cmd: string[], env: Record<string, string> = {}): RunningProcess {
  const child = Bun.spawn({
    cmd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const pump = async (stream: ReadableStream<Uint8Array>, add: (text: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) add(decoder.decode(chunk, { stream: true }));
  };
  const pumps = Promise.all([
    pump(child.stdout, (text) => {
      out += text;
    }),
    pump(child.stderr, (text) => {
      err += text;
    }),
  ]);
  return {
    process: child,
    stdout: () => out,
    stderr: () => err,
    finished: async () => {
      const code = await child.exited;
      await pumps;
      return code;
    },
    waitForOutput: async (text) => {
      await waitFor(`output ${JSON.stringify(text)} (got ${JSON.stringify(out)})`, () =>
        out.includes(text),
      );
    },
    [Symbol.asyncDispose]: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await child.exited;
    },
  };
}

/** A running `rialto-server-manager` in a fresh runtime dir. */
export interface TestDaemon extends AsyncDisposable {
  readonly runtimeDir: string;
  readonly controlSocket: string;
  readonly daemon: RunningProcess;
  /** Runs `rialtoctl --control-socket <ours> ...args` to completion. */
  ctl(...args: string[]): Promise<CommandResult>;
  /** Starts `rialtoctl ...args` without waiting for it (e.g. `monitor`). */
  ctlProcess(...args: string[]): RunningProcess;
  /** Starts a session server from "a shell" that joins the daemon for `appId`. */
  joinSessionServer(appId: string): RunningProcess;
  /** Opens a control-socket connection that is a monitor; messages are collected. */
  connectMonitor(): Promise<TestMonitor>;
}

/** An external monitor connected to the daemon's control socket. */
export interface TestMonitor extends AsyncDisposable {
  readonly peer: RpcPeer;
  readonly messages: MonitorMessage[];
  /** Waits for a `client_event` of `appId` named `event` (with `state` if given). */
  waitForEvent(appId: string, event: string, state?: string): Promise<void>;
}

/**
 * Starts the daemon (with `env` added to its environment and `extraArgs` after the test's own
 * arguments) and waits until its control socket accepts connections. Disposing closes the
 * monitors, stops the daemon with SIGTERM, kills what the test started if it still runs, checks
 * that every process (the daemon's session servers included) is gone and that no socket file is
 * left, then removes the runtime dir.
 */
export async function startTestDaemon(
  env: Record<string, string> = {},
  extraArgs: readonly string[] = [],
): Promise<TestDaemon> {
  const runtimeDir = mkdtempSync("/tmp/rsd-");
  const controlSocket = `${runtimeDir}/control.sock`;
  const daemon = startProcess(
    [
      process.execPath,
      DAEMON_MAIN,
      "--runtime-dir",
      runtimeDir,
      "--control-socket",
      controlSocket,
      "--log-level",
      "error",
      "--ready-timeout-ms",
      "10000",
      "--session-server-command",
      JSON.stringify(REAL_SESSION_SERVER),
      ...extraArgs,
    ],
    env,
  );
  const spawned: RunningProcess[] = [];
  const peers: RpcPeer[] = [];
  await waitFor("the daemon's control socket", () => isListening(controlSocket));
  const ctlProcess = (...args: string[]) => {
    const child = startProcess([
      process.execPath,
      CLI_MAIN,
      "--control-socket",
      controlSocket,
      ...args,
    ]);
    spawned.push(child);
    return child;
  };
  return {
    runtimeDir,
    controlSocket,
    daemon,
    ctl: async (...args) => {
      const child = ctlProcess(...args);
      const exitCode = await child.finished();
      return { exitCode, stdout: child.stdout(), stderr: child.stderr() };
    },
    ctlProcess,
    joinSessionServer: (appId) => {
      const child = startProcess(
        [...defaultSessionServerCommand(), "--app-id", appId, "--log-level", "error"],
        { RIALTO_CONTROL_SOCKET: controlSocket },
      );
      spawned.push(child);
      return child;
    },
    connectMonitor: async () => {
      const peer = new RpcPeer({ name: "test-monitor" });
      peers.push(peer);
      const messages: MonitorMessage[] = [];
      peer.on(ControlSocketEvents.monitorMessage, (message) => messages.push(message));
      peer.attach(await connectUnix(controlSocket));
      await peer.call(ControlSocketMethods.monitorAnnounce, {});
      return {
        peer,
        messages,
        waitForEvent: async (appId, event, state) => {
          await waitFor(`monitor event ${appId} ${event} ${state ?? ""}`, () =>
            messages.some(
              (m) =>
                m.type === "client_event" &&
                m.appId === appId &&
                m.event === event &&
                (state === undefined || m.state === state),
            ),
          );
        },
        [Symbol.asyncDispose]: async () => peer.close(),
      };
    },
    [Symbol.asyncDispose]: async () => {
      try {
        for (const peer of peers) peer.close();
        const child = daemon.process;
        const sessionServers = childPids(child.pid);
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await child.exited;
        for (const process of spawned) await process[Symbol.asyncDispose]();
        await daemon[Symbol.asyncDispose]();
        const pids = [child.pid, ...sessionServers, ...spawned.map((p) => p.process.pid)];
        await waitFor(
          `processes ${pids.join(", ")} to be gone`,
          () => pids.every(processGone),
          2000,
        );
        assertNoClientSocketsLeft(runtimeDir);
      } finally {
        rmSync(runtimeDir, { recursive: true, force: true });
      }
    },
  };
}
