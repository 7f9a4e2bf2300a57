import type { EventEmitter } from "node:events";
import { RialtoError, type SessionServerState } from "@rialto/protocol";

/** Options of `ServerManager.waitForState`. */
export interface WaitForStateOptions {
  /**
   * How long to wait, ms (default: the longest a state change may take with the manager's
   * options: `readyTimeoutMs + transitionTimeoutMs + 2 × stopTimeoutMs + 1000`).
   */
  timeoutMs?: number;
}

/** What {@link waitForAppState} needs from the manager. */
export interface StateSource {
  /** Emits `stateChanged(appId, state)`; NotRunning once the app is forgotten. */
  readonly events: EventEmitter<{ stateChanged: [appId: string, state: SessionServerState] }>;
  /** The app's state now; undefined when the app is unknown (never started, or forgotten). */
  state(appId: string): SessionServerState | undefined;
  /** Why the app's last session server ended, in words, if it did. */
  termination(appId: string): string | undefined;
}

const method = "waitForState";

/**
 * Resolves once `appId` is in `target` (at once when it already is); `NotRunning` is reached
 * when the app is unknown or forgotten. Rejects UNKNOWN_APP when the app is unknown and the
 * target is not NotRunning, INVALID_STATE when the app went to Error or stopped on the way
 * (unless that was the target), TIMEOUT after `timeoutMs` naming the state it was in.
 */
export function waitForAppState(
  source: StateSource,
  appId: string,
  target: SessionServerState,
  timeoutMs: number,
): Promise<void> {
  const now = source.state(appId);
  if (now === target || (target === "NotRunning" && now === undefined)) return Promise.resolve();
  if (now === undefined) {
    return Promise.reject(
      new RialtoError(
        "UNKNOWN_APP",
        `${method}: unknown app "${appId}" (start it with initiateApplication first)`,
      ),
    );
  }
  return new Promise<void>((resolve, reject) => {
    let last: SessionServerState = now;
    const finish = (error?: RialtoError) => {
      clearTimeout(timer);
      source.events.off("stateChanged", listener);
      if (error === undefined) resolve();
      else reject(error);
    };
    const listener = (changedApp: string, state: SessionServerState) => {
      if (changedApp !== appId) return;
      last = state;
      if (state === target) return finish();
      if (state === "Error" || state === "NotRunning") {
        const why = source.termination(appId);
        finish(
          new RialtoError(
            "INVALID_STATE",
            `${method}: app "${appId}" went to ${state} while waiting for ${target}${why === undefined ? "" : ` (${why})`}`,
          ),
        );
      }
    };
    const timer = setTimeout(
      () =>
        finish(
          new RialtoError(
            "TIMEOUT",
            `${method}: app "${appId}" did not reach ${target} within ${timeoutMs} ms (it is ${last})`,
          ),
        ),
      timeoutMs,
    );
    source.events.on("stateChanged", listener);
  });
}
