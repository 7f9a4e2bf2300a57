import { mkdtempSync, rmSync } from "node:fs";
import { RialtoClient, type RialtoClientOptions } from "@rialto/client";
import type { AppConfig, SessionServerState } from "@rialto/protocol";
import {
  defaultSessionServerCommand,
  ServerManager,
  type ServerManagerOptions,
} from "@rialto/server-manager";
import { eventually, WAIT_MS } from "./wait.ts";

/**
 * The session server the manager runs by default, quiet until configured (then at the app's
 * level, `error` here).
 */
const SESSION_SERVER = [...defaultSessionServerCommand(), "--log-level", "error"];

/** Options of {@link startApp}. */
export interface StartAppOptions {
  /** The state the app is started in (default Active). */
  state?: "Active" | "Inactive";
  /** The app's config (resources, env, ...). */
  config?: AppConfig;
  /** Extra environment of the session server (test methods are always enabled). */
  env?: Record<string, string>;
  /** Overrides of the manager's options. */
  manager?: ServerManagerOptions;
}

/**
 * One app run by a real {@link ServerManager} with the real session server process, for
 * end-to-end client tests. Disposing closes every client it connected, then the manager (every
 * session server stops; stragglers are killed), and removes the runtime dir.
 */
export class TestApp implements AsyncDisposable {
  readonly appId = "client-test";
  readonly manager: ServerManager;
  readonly runtimeDir: string;
  readonly #clients: RialtoClient[] = [];

  private constructor(manager: ServerManager, runtimeDir: string) {
    this.manager = manager;
    this.runtimeDir = runtimeDir;
  }

  /** Starts the app and waits until its session server reports the requested state. */
  static async start(options: StartAppOptions = {}): Promise<TestApp> {
    const runtimeDir = mkdtempSync("/tmp/rct-");
    const manager = new ServerManager({
      runtimeDir,
      logLevel: "error",
      readyTimeoutMs: WAIT_MS,
      transitionTimeoutMs: WAIT_MS,
      healthCheckIntervalMs: 0,
      stopTimeoutMs: 1000,
      sessionServerCommand: SESSION_SERVER,
      env: { ...process.env, RIALTO_ENABLE_TEST_METHODS: "1", ...options.env },
      ...options.manager,
    });
    const app = new TestApp(manager, runtimeDir);
    const state = options.state ?? "Active";
    try {
      await manager.initiateApplication(app.appId, state, options.config);
      await app.waitForState(state);
    } catch (error) {
      await app[Symbol.asyncDispose]();
      throw error;
    }
    return app;
  }

  /** The client socket of the app. */
  get socketPath(): string {
    return this.manager.getAppConnectionInfo(this.appId);
  }

  /** The pid of the app's session server now. */
  get pid(): number {
    const info = this.manager.listApplications().find((app) => app.appId === this.appId);
    if (info?.pid === undefined) throw new Error(`app ${this.appId} has no session server`);
    return info.pid;
  }

  /** Connects a client to the app (closed when the app is disposed). */
  async connect(options: RialtoClientOptions = {}): Promise<RialtoClient> {
    const client = await RialtoClient.connect({ socketPath: this.socketPath, ...options });
    this.#clients.push(client);
    return client;
  }

  /** Moves the app to `state` through the manager and waits until it got there. */
  async setState(state: "Active" | "Inactive"): Promise<void> {
    await this.manager.changeSessionServerState(this.appId, state);
    await this.waitForState(state);
  }

  /** Waits until the manager reports the app in `state`. */
  waitForState(state: SessionServerState): Promise<void> {
    return eventually(() => this.manager.getState(this.appId) === state, `app state ${state}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      for (const client of this.#clients) await client.close();
      await this.manager.close();
    } finally {
      rmSync(this.runtimeDir, { recursive: true, force: true });
    }
  }
}
