import { mkdtempSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type {
  AppConfig,
  MonitorMessage,
  RequestedState,
  SessionServerState,
  TargetState,
} from "@rialto/protocol";
import {
  defaultSessionServerCommand,
  ServerManager,
  type ServerManagerOptions,
} from "@rialto/server-manager";
import { assertNoClientSocketsLeft, processGone } from "./lifecycle-proc.ts";
import { WAIT_MS, waitFor } from "./wait.ts";

/**
 * The session server the manager runs by default (the bundle `bun run build` makes, or the
 * sources while that build is missing or stale), quiet until configured.
 */
export const REAL_SESSION_SERVER: readonly string[] = [
  ...defaultSessionServerCommand(),
  "--log-level",
  "error",
];

/** A session server that never sends its first message. */
export const SILENT_SESSION_SERVER: readonly string[] = [
  process.execPath,
  fileURLToPath(new URL("./lifecycle-silent-session-server.ts", import.meta.url)),
];

/**
 * A session server that accepts every change and never reports reaching it: the configured
 * state (`"configuration"`) or any state asked for after it (`"state"`).
 */
export function stalledSessionServer(stallOn: "configuration" | "state"): readonly string[] {
  return [
    process.execPath,
    fileURLToPath(new URL("./lifecycle-stalled-session-server.ts", import.meta.url)),
    stallOn,
  ];
}

/**
 * A session server that attacks the manager over its control channel when configured for app
 * "deep" (deeply nested frames) or "partial" (a frame it never finishes, then silence).
 */
export const HOSTILE_SESSION_SERVER: readonly string[] = [
  process.execPath,
  fileURLToPath(new URL("./lifecycle-hostile-session-server.ts", import.meta.url)),
];

/** A monitor event as `event` or `event:state`. */
export function eventText(message: { event?: unknown; state?: unknown }): string {
  return message.state === undefined
    ? String(message.event)
    : `${String(message.event)}:${String(message.state)}`;
}

/** The monitor events of one app taken NotRunning → Inactive → Active → Inactive → NotRunning. */
export const FULL_LIFECYCLE_EVENTS: readonly string[] = [
  "start_request:Inactive",
  "started",
  "ready:Uninitialised",
  "state_changed:Uninitialised",
  "state_changed:Inactive",
  "state_request:Active",
  "state_changed:Active",
  "state_request:Inactive",
  "state_changed:Inactive",
  "stop_request:NotRunning",
  "stopped_by_server",
  "state_changed:NotRunning",
  "removed",
];

/** The pid of `appId`'s session server now, or undefined while none runs. */
export function pidOf(manager: ServerManager, appId: string): number | undefined {
  return manager.listApplications().find((app) => app.appId === appId)?.pid;
}

/** A ServerManager under test with everything it announced recorded. */
export interface TestManager extends AsyncDisposable {
  manager: ServerManager;
  runtimeDir: string;
  /** Every `stateChanged(appId, state)`, in order. */
  states: [string, SessionServerState][];
  /** Every message of an in-process monitor registered at creation. */
  monitor: MonitorMessage[];
  /** Every session server pid the manager showed while this test ran (checked gone on dispose). */
  pids: Set<number>;
  /** The states of one app, in order. */
  statesOf(appId: string): SessionServerState[];
  /** The monitor events of one app as `event` or `event:state`, in order. */
  eventsOf(appId: string): string[];
  /** Waits until `appId` announced `state` (at least `count` times). */
  waitForState(
    appId: string,
    state: SessionServerState,
    count?: number,
    timeoutMs?: number,
  ): Promise<void>;
  /**
   * Given: initiates `appId` in `state` (with `config`) and waits until it announces `state`;
   * resolves with its session server's pid.
   */
  givenApp(appId: string, state: TargetState, config?: AppConfig): Promise<number>;
  /** Asks the manager to move `appId` to `state` and waits until it announces `state` once more. */
  changeState(appId: string, state: RequestedState): Promise<void>;
}

/**
 * A manager running the real session server in a fresh runtime dir, with quiet logs, no health
 * check and generous timeouts unless `overrides` say otherwise. Disposing closes it, checks that
 * every session server it showed is gone (zombies included) and that no socket file is left in
 * the runtime dir, then removes the dir.
 */
export function createTestManager(overrides: ServerManagerOptions = {}): TestManager {
  const runtimeDir = mkdtempSync("/tmp/rsm-");
  const manager = new ServerManager({
    runtimeDir,
    readyTimeoutMs: WAIT_MS,
    transitionTimeoutMs: WAIT_MS,
    healthCheckIntervalMs: 0,
    stopTimeoutMs: 1000,
    sessionServerCommand: REAL_SESSION_SERVER,
    logLevel: "error",
    ...overrides,
  });
  const states: [string, SessionServerState][] = [];
  const monitor: MonitorMessage[] = [];
  const pids = new Set<number>();
  const notePids = () => {
    for (const app of manager.listApplications()) if (app.pid !== undefined) pids.add(app.pid);
    for (const server of manager.listPreloadedServers()) pids.add(server.pid);
  };
  manager.on("stateChanged", (appId, state) => {
    states.push([appId, state]);
    notePids();
  });
  manager.addMonitor((message) => {
    monitor.push(message);
    notePids();
  });
  const countOf = (appId: string, state: SessionServerState) =>
    states.filter(([id, s]) => id === appId && s === state).length;
  const waitForState: TestManager["waitForState"] = async (
    appId,
    state,
    count = 1,
    timeoutMs = WAIT_MS,
  ) => {
    await waitFor(`${appId} to become ${state}`, () => countOf(appId, state) >= count, timeoutMs);
  };
  return {
    manager,
    runtimeDir,
    states,
    monitor,
    pids,
    statesOf: (appId) => states.filter(([id]) => id === appId).map(([, state]) => state),
    eventsOf: (appId) =>
      monitor.flatMap((message) =>
        message.type === "client_event" && message.appId === appId ? [eventText(message)] : [],
      ),
    waitForState,
    givenApp: async (appId, state, config) => {
      const count = countOf(appId, state) + 1;
      await manager.initiateApplication(appId, state, config);
      await waitForState(appId, state, count);
      const pid = pidOf(manager, appId);
      if (pid === undefined) throw new Error(`${appId} is ${state} but has no session server pid`);
      return pid;
    },
    changeState: async (appId, state) => {
      const count = countOf(appId, state) + 1;
      await manager.changeSessionServerState(appId, state);
      await waitForState(appId, state, count);
    },
    [Symbol.asyncDispose]: async () => {
      try {
        if (!manager.isClosed) notePids();
        await manager.close();
        // close() resolves once every process was reaped; a short deadline covers the last exit event.
        await waitFor(
          `session servers ${[...pids].join(", ")} to be gone`,
          () => [...pids].every(processGone),
          2000,
        );
        assertNoClientSocketsLeft(runtimeDir);
      } finally {
        rmSync(runtimeDir, { recursive: true, force: true });
      }
    },
  };
}
