import { RialtoClient } from "@rialto/client";
import {
  type AppConfig,
  type ApplicationState,
  RialtoError,
  type SessionServerState,
} from "@rialto/protocol";
import type { ServerManager } from "@rialto/server-manager";
import type { LifecycleTimeline } from "./lifecycle-timeline.ts";

/** How long a lifecycle step may take on a busy machine, ms. */
export const STEP_TIMEOUT_MS = 15_000;

/**
 * Resolves when the manager reports `state` for `appId`, rejects on `Error` or after
 * `timeoutMs`. Call it before the call that causes the change, so the event cannot be missed.
 */
export function stateReached(
  manager: ServerManager,
  appId: string,
  state: SessionServerState,
  timeoutMs = STEP_TIMEOUT_MS,
): Promise<void> {
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  const listener = (id: string, reported: SessionServerState) => {
    if (id !== appId) return;
    if (reported === state) resolve();
    else if (reported === "Error" && state !== "Error") {
      reject(new RialtoError("INTERNAL", `app "${appId}" reported Error while going ${state}`));
    }
  };
  const timer = setTimeout(
    () =>
      reject(
        new RialtoError("TIMEOUT", `app "${appId}" did not reach ${state} in ${timeoutMs} ms`),
      ),
    timeoutMs,
  );
  manager.on("stateChanged", listener);
  return promise.finally(() => {
    clearTimeout(timer);
    manager.off("stateChanged", listener);
  });
}

/**
 * One app of the demo, as the platform's application manager drives it through the server
 * manager (initiate, Active / Inactive, NotRunning), with the app's own client connected to
 * the socket the manager hands out.
 */
export class DemoApp implements AsyncDisposable {
  readonly appId: string;
  readonly #manager: ServerManager;
  readonly #timeline: LifecycleTimeline;
  #client: RialtoClient | undefined;

  private constructor(manager: ServerManager, appId: string, timeline: LifecycleTimeline) {
    this.#manager = manager;
    this.appId = appId;
    this.#timeline = timeline;
  }

  /** `initiateApplication(appId, state, config)` and the wait for `state`. */
  static async start(
    manager: ServerManager,
    appId: string,
    state: "Active" | "Inactive",
    config: AppConfig,
    timeline: LifecycleTimeline,
  ): Promise<DemoApp> {
    const reached = stateReached(manager, appId, state);
    timeline.record("demo", `initiateApplication(${appId}, ${state})`);
    await manager.initiateApplication(appId, state, config);
    await reached;
    return new DemoApp(manager, appId, timeline);
  }

  /** The app's client, once connected. */
  get client(): RialtoClient {
    if (this.#client === undefined) {
      throw new RialtoError("INVALID_STATE", `app "${this.appId}" has no client yet`);
    }
    return this.#client;
  }

  /** Connects the app's client to `getAppConnectionInfo(appId)`. */
  async connect(): Promise<RialtoClient> {
    const socketPath = this.#manager.getAppConnectionInfo(this.appId);
    const client = await RialtoClient.connect({ socketPath });
    this.#client = client;
    this.#timeline.record(
      `client ${this.appId}`,
      `connected to ${socketPath} (${client.applicationState})`,
    );
    client.on("applicationState", (state) =>
      this.#timeline.record(`client ${this.appId}`, `applicationState ${state}`),
    );
    return client;
  }

  /** Waits until the client's application state is `state` (pushed by the session server). */
  async clientState(state: ApplicationState, timeoutMs = STEP_TIMEOUT_MS): Promise<void> {
    const client = this.client;
    if (client.applicationState === state) return;
    const { promise, resolve } = Promise.withResolvers<void>();
    const stop = client.on("applicationState", (s) => s === state && resolve());
    const timer = setTimeout(resolve, timeoutMs);
    await promise.finally(() => {
      stop();
      clearTimeout(timer);
    });
    if (client.applicationState !== state) {
      throw new RialtoError(
        "TIMEOUT",
        `client of "${this.appId}" did not become ${state} (it is ${client.applicationState})`,
      );
    }
  }

  /** The client maps the AV shared memory: `setApplicationState("Running")`. */
  async run(): Promise<void> {
    await this.clientState("Running");
    this.#timeline.record(`client ${this.appId}`, 'setApplicationState("Running")');
    await this.client.setApplicationState("Running");
  }

  /** `changeSessionServerState(appId, state)` and the wait for its stateChanged. */
  async change(state: "Active" | "Inactive" | "NotRunning"): Promise<void> {
    const reached = stateReached(this.#manager, this.appId, state);
    this.#timeline.record("demo", `changeSessionServerState(${this.appId}, ${state})`);
    await this.#manager.changeSessionServerState(this.appId, state);
    await reached;
  }

  /** Closes the client (if any). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#client?.close();
  }
}
