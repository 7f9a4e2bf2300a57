import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RialtoClient, type RialtoClientOptions } from "@rialto/client";
import type { AppConfig, SessionServerState } from "@rialto/protocol";
import { defaultSessionServerCommand, ServerManager } from "@rialto/server-manager";

const APP_ID = "bench";
/**
 * The session server the manager runs by default (the bundle `bun run build` makes), quiet from
 * its first line (the app's log level applies later).
 * `BENCH_SESSION_SERVER_BUN_ARGS` (space-separated) adds Bun options before its script, e.g.
 * `--cpu-prof --cpu-prof-dir /tmp/prof` to profile the server side of a benchmark.
 */
const SESSION_SERVER = [
  process.execPath,
  ...(process.env.BENCH_SESSION_SERVER_BUN_ARGS ?? "").split(" ").filter((arg) => arg !== ""),
  ...defaultSessionServerCommand().slice(1),
  "--log-level",
  "error",
];
/** Generous on a 2-core machine shared with other work. */
const START_MS = 15_000;

/**
 * One app run by an in-process {@link ServerManager} with the real session server process
 * (logging errors only, test methods enabled), made Active: what the client benchmarks talk to.
 * Disposing closes every client it connected, then the manager (the session server stops; a
 * straggler is killed by the manager), and removes the runtime dir.
 */
export class BenchApp implements AsyncDisposable {
  readonly manager: ServerManager;
  readonly #runtimeDir: string;
  readonly #clients: RialtoClient[] = [];

  private constructor(manager: ServerManager, runtimeDir: string) {
    this.manager = manager;
    this.#runtimeDir = runtimeDir;
  }

  /**
   * Starts the app with `config` and resolves once its session server is Active; `prefix` goes
   * before the session server's argv (e.g. a `taskset` pinning it to a CPU).
   */
  static async start(config?: AppConfig, prefix: readonly string[] = []): Promise<BenchApp> {
    const runtimeDir = mkdtempSync(join(tmpdir(), "rialto-bench-"));
    const manager = new ServerManager({
      runtimeDir,
      logLevel: "error",
      readyTimeoutMs: START_MS,
      transitionTimeoutMs: START_MS,
      healthCheckIntervalMs: 0,
      stopTimeoutMs: 1000,
      sessionServerCommand: [...prefix, ...SESSION_SERVER],
      env: { ...process.env, RIALTO_ENABLE_TEST_METHODS: "1" },
    });
    const app = new BenchApp(manager, runtimeDir);
    try {
      const active = app.#reached("Active");
      await manager.initiateApplication(APP_ID, "Active", config);
      await active;
    } catch (error) {
      await app[Symbol.asyncDispose]();
      throw error;
    }
    return app;
  }

  /** The app's client socket. */
  get socketPath(): string {
    return this.manager.getAppConnectionInfo(APP_ID);
  }

  /** The pid of the app's session server (for profiling it). */
  get pid(): number | undefined {
    return this.manager.listApplications().find((app) => app.appId === APP_ID)?.pid;
  }

  /** Connects a client (closed on dispose). */
  async connect(options: RialtoClientOptions = {}): Promise<RialtoClient> {
    const client = await RialtoClient.connect({ socketPath: this.socketPath, ...options });
    this.#clients.push(client);
    return client;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      for (const client of this.#clients) await client.close();
      await this.manager.close();
    } finally {
      rmSync(this.#runtimeDir, { recursive: true, force: true });
    }
  }

  /** Resolves when the app reaches `state`; rejects on Error, NotRunning or after 15 s. */
  #reached(state: SessionServerState): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const timer = setTimeout(
      () => reject(new Error(`bench app not ${state} within ${START_MS} ms`)),
      START_MS,
    );
    const listener = (appId: string, reached: SessionServerState) => {
      if (appId !== APP_ID) return;
      if (reached === state) resolve();
      else if (reached === "Error" || reached === "NotRunning") {
        reject(new Error(`bench app went ${reached} while starting`));
      }
    };
    this.manager.on("stateChanged", listener);
    return promise.finally(() => {
      clearTimeout(timer);
      this.manager.off("stateChanged", listener);
    });
  }
}
