import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connectFd, type SetConfigurationParams } from "@rialto/protocol";
import type { Subprocess } from "bun";
import { AsyncQueue, WAIT_MS, within } from "./async-queue.ts";
import { FakeManager, testConfiguration } from "./fake-manager.ts";

/** The session server's entry point, as the server manager starts it. */
export const SESSION_SERVER_MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

/** One pino JSON line from the session server's stderr (or `{ raw }` when not JSON). */
export type LogLine = Record<string, unknown>;

/** Options of {@link SessionServerProcess.spawn}. */
export interface SpawnSessionServerOptions {
  /** Extra command-line arguments. */
  args?: string[];
  /** Environment of the child (default: this process's). */
  env?: Record<string, string | undefined>;
  /** Give the child its control channel as fd 3 (default true); false for joined mode. */
  controlChannel?: boolean;
}

/** A private temp dir for sockets (short path: sun_path holds 107 bytes). */
export function makeSocketDir(): string {
  return mkdtempSync(join(tmpdir(), "rialto-ss-"));
}

/** A {@link makeSocketDir} removed (with its contents) on dispose. */
export function socketDir(): Disposable & { path: string } {
  const path = makeSocketDir();
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A real session server process started the way the server manager starts it (`bun main.ts`
 * with a socketpair on fd 3), with this test playing the manager on the control channel.
 * Disposing closes the channel, kills the child by pid if it still runs, and removes the temp dir.
 */
export class SessionServerProcess implements AsyncDisposable {
  readonly child: Subprocess<"ignore", "ignore", "pipe">;
  /** The manager's end of the fd 3 control channel (undefined in joined mode). */
  readonly control: FakeManager | undefined;
  /** Every line the child wrote to stderr, in order. */
  readonly logs = new AsyncQueue<LogLine>();
  /** A private temp dir for sockets; removed on dispose. */
  readonly dir: string;
  /** The default client socket path inside {@link dir}. */
  readonly socketPath: string;

  private constructor(
    child: Subprocess<"ignore", "ignore", "pipe">,
    control: FakeManager | undefined,
    dir: string,
  ) {
    this.child = child;
    this.control = control;
    this.dir = dir;
    this.socketPath = join(dir, "app.sock");
    void this.#readLogs();
  }

  /** Starts `bun main.ts` with a control channel on fd 3 (unless `controlChannel` is false). */
  static async spawn(options: SpawnSessionServerOptions = {}): Promise<SessionServerProcess> {
    const dir = makeSocketDir();
    const withControl = options.controlChannel ?? true;
    const child = Bun.spawn({
      cmd: [process.execPath, SESSION_SERVER_MAIN, ...(options.args ?? [])],
      env: options.env ?? process.env,
      stdio: withControl ? ["ignore", "ignore", "pipe", "socket-fd"] : ["ignore", "ignore", "pipe"],
    }) as Subprocess<"ignore", "ignore", "pipe">;
    if (!withControl) return new SessionServerProcess(child, undefined, dir);
    // Listen for stateChanged before attaching: the first message may already be waiting.
    const manager = new FakeManager();
    manager.peer.attach(await connectFd(child.stdio[3] as number));
    return new SessionServerProcess(child, manager, dir);
  }

  /**
   * Given a session server configured with `overrides` (socket in its temp dir): spawned, its
   * Uninitialised taken, SetConfiguration sent and the target state reported.
   */
  static async configured(
    overrides: Partial<SetConfigurationParams> = {},
  ): Promise<SessionServerProcess> {
    const server = await SessionServerProcess.spawn();
    try {
      await server.manager.expectState("Uninitialised");
      await server.configure(overrides);
      await server.manager.expectState(overrides.targetState ?? "Inactive");
    } catch (error) {
      await server[Symbol.asyncDispose]();
      throw error;
    }
    return server;
  }

  get pid(): number {
    return this.child.pid;
  }

  /** The manager's end of the control channel; throws in joined mode. */
  get manager(): FakeManager {
    if (this.control === undefined) throw new Error("this session server has no fd 3 channel");
    return this.control;
  }

  /** SetConfiguration with the test defaults (socket in {@link dir}) plus `overrides`. */
  configuration(overrides: Partial<SetConfigurationParams> = {}): SetConfigurationParams {
    return testConfiguration(this.socketPath, overrides);
  }

  /** Sends {@link configuration} and waits for the reply. */
  configure(overrides: Partial<SetConfigurationParams> = {}): Promise<unknown> {
    return this.manager.configure(this.configuration(overrides));
  }

  /** Resolves with the exit code once the process ended (with a deadline). */
  waitForExit(ms = WAIT_MS): Promise<number> {
    return within(this.child.exited, `session server ${this.pid} to exit`, ms);
  }

  /** Targets of the process's open fds (`socket:[..]`, `/memfd:rialto-av (deleted)`, ...). */
  openFds(): string[] {
    const dir = `/proc/${this.pid}/fd`;
    const targets: string[] = [];
    for (const name of readdirSync(dir)) {
      try {
        targets.push(readlinkSync(`${dir}/${name}`));
      } catch {
        // Closed between readdir and readlink.
      }
    }
    return targets;
  }

  /** Lines of /proc/<pid>/maps that mention `needle`. */
  mappings(needle: string): string[] {
    return readFileSync(`/proc/${this.pid}/maps`, "utf8")
      .split("\n")
      .filter((line) => line.includes(needle));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.control?.peer.close();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.child.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }

  async #readLogs(): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of this.child.stderr) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.logs.push({ raw: line });
        }
      }
    }
  }
}
