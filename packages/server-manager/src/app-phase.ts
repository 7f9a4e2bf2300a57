import { RialtoError } from "@rialto/protocol";
import type { ExitInfo } from "./session-server-handle.ts";

/**
 * Where an app is in its lifecycle, as the manager sees it (finer than `SessionServerState`):
 * - `starting`: the process runs (spawned or joined), its first message has not arrived; READY timer on.
 * - `configuring`: SetConfiguration sent, waiting for the target state.
 * - `running`: Inactive or Active, nothing pending.
 * - `changing`: SetState(Inactive|Active) sent, waiting for the new state.
 * - `stopping`: NotRunning requested (or reported), waiting for the process to exit.
 * - `failed`: Error reported; waiting for the process to be gone, then restart or forget.
 * - `parked`: Inactive with no session server (`parkInactiveAfterMs`): the manager keeps the
 *   listening sockets and starts one again for a client or for Active; the public state stays
 *   Inactive.
 * - `launching`: not started yet, or a restart is queued.
 * - `removed`: forgotten (terminal).
 */
export type AppPhase =
  | "launching"
  | "starting"
  | "configuring"
  | "running"
  | "changing"
  | "stopping"
  | "failed"
  | "parked"
  | "removed";

const TRANSITIONS: Readonly<Record<AppPhase, readonly AppPhase[]>> = {
  launching: ["starting", "removed"],
  starting: ["configuring", "stopping", "failed"],
  configuring: ["running", "stopping", "failed"],
  running: ["changing", "stopping", "failed"],
  changing: ["running", "stopping", "failed"],
  stopping: ["removed", "failed", "parked"],
  failed: ["launching", "stopping", "removed"],
  parked: ["launching", "removed"],
  removed: [],
};

/** Phases after which the next queued call may run: nothing is in flight. */
export const SETTLED_PHASES: ReadonlySet<AppPhase> = new Set([
  "running",
  "failed",
  "parked",
  "removed",
]);

/** Throws INTERNAL for a transition the lifecycle does not allow (a bug in the manager). */
export function assertTransition(appId: string, from: AppPhase, to: AppPhase): void {
  if (!TRANSITIONS[from].includes(to)) {
    throw new RialtoError("INTERNAL", `app "${appId}": no transition from ${from} to ${to}`);
  }
}

/**
 * Why a session server process ended:
 * - `stopped`: it reported NotRunning (or was stopped by request) and exited.
 * - `spawn-failed`: it could not be started.
 * - `socket-unavailable`: the app's socket path could not be bound (in use, or not creatable);
 *   nothing was started.
 * - `ready-timeout`: no first message within `readyTimeoutMs`; killed.
 * - `configuration-failed`: SetConfiguration was refused or it reported Error while configuring.
 * - `state-change-failed`: SetState was refused or it reported Error while changing state.
 * - `transition-timeout`: the requested state was not reported within `transitionTimeoutMs`; killed.
 * - `reported-error`: it reported Error on its own.
 * - `protocol-error`: its first message was not `Uninitialised`; killed.
 * - `crashed`: it exited without being asked to.
 * - `channel-broken`: its control channel closed while it kept running; killed.
 * - `hung`: `failedPingsBeforeRecovery` pings in a row went unanswered; killed.
 * - `manager-closed`: stopped by `ServerManager.close()`.
 */
export type TerminationKind =
  | "stopped"
  | "spawn-failed"
  | "socket-unavailable"
  | "ready-timeout"
  | "configuration-failed"
  | "state-change-failed"
  | "transition-timeout"
  | "reported-error"
  | "protocol-error"
  | "crashed"
  | "channel-broken"
  | "hung"
  | "manager-closed";

/** The recorded end of an app's session server: what happened, and how the process exited. */
export interface TerminationReason {
  kind: TerminationKind;
  /** Detail for logs (the error message or the reason the session server gave). */
  detail?: string;
  /** Exit code and signal, once the process is gone. */
  exit?: ExitInfo;
}

/** Terminations after which an app that had reached Inactive/Active may be restarted (SPEC 3 item 5). */
export const RESTARTABLE: ReadonlySet<TerminationKind> = new Set([
  "crashed",
  "channel-broken",
  "hung",
  // A state change that never finishes is a hang of the transition.
  "transition-timeout",
  "reported-error",
]);
