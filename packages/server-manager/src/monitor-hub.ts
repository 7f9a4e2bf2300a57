import type { MonitorEventName, MonitorMessage, SessionServerState } from "@rialto/protocol";
import type { Logger } from "pino";

/** What a monitor needs to know about one app for the state list. */
export interface AppSnapshot {
  appId: string;
  /** Whether a session server process runs for it. */
  isStarted: boolean;
  state: SessionServerState;
}

/** Receives every message of one monitor, in order. */
export type MonitorCallback = (message: MonitorMessage) => void;

/** A registered monitor (SPEC 4), returned by `ServerManager.addMonitor`. */
export interface MonitorHandle {
  /** Sends the state list again: `client_state` per app, then `client_state_end` (wire: `monitor/reset`). */
  reset(): void;
  /** Stops the messages (wire: `monitor/quit`). Idempotent. */
  close(): void;
  /** False once closed. */
  readonly isOpen: boolean;
}

/** Options of one monitor. */
export interface MonitorOptions {
  /** The app this monitor belongs to: it is never told about that app (SPEC 4). */
  appId?: string;
}

interface Monitor {
  callback: MonitorCallback;
  ownAppId: string | undefined;
}

/**
 * The monitor capability (SPEC 4, after NSM/RaySession `:monitor:`): every monitor first gets the
 * state list of the apps (not its own), then `client_state_end`, then every `client_event` about
 * other apps. Delivery is synchronous and in order; a throwing callback is logged and skipped.
 */
export class MonitorHub {
  readonly #monitors = new Set<Monitor>();
  readonly #snapshot: () => AppSnapshot[];
  readonly #logger: Logger;

  constructor(snapshot: () => AppSnapshot[], logger: Logger) {
    this.#snapshot = snapshot;
    this.#logger = logger;
  }

  /** Number of registered monitors. */
  get size(): number {
    return this.#monitors.size;
  }

  /** Registers a monitor and sends it the state list before returning. */
  add(callback: MonitorCallback, options: MonitorOptions = {}): MonitorHandle {
    const monitor: Monitor = { callback, ownAppId: options.appId };
    const monitors = this.#monitors;
    monitors.add(monitor);
    this.#sendStateList(monitor);
    return {
      reset: () => {
        if (monitors.has(monitor)) this.#sendStateList(monitor);
      },
      close: () => {
        monitors.delete(monitor);
      },
      get isOpen() {
        return monitors.has(monitor);
      },
    };
  }

  /** Sends `client_event` to every monitor except the app's own. */
  event(appId: string, event: MonitorEventName, state?: SessionServerState): void {
    const message: MonitorMessage =
      state === undefined
        ? { type: "client_event", appId, event }
        : { type: "client_event", appId, event, state };
    for (const monitor of [...this.#monitors]) {
      if (monitor.ownAppId !== appId) this.#deliver(monitor, message);
    }
  }

  /** Drops every monitor. */
  closeAll(): void {
    this.#monitors.clear();
  }

  #sendStateList(monitor: Monitor): void {
    let count = 0;
    for (const app of this.#snapshot()) {
      if (app.appId === monitor.ownAppId) continue;
      count++;
      this.#deliver(monitor, { type: "client_state", ...app });
    }
    this.#deliver(monitor, { type: "client_state_end", count });
  }

  #deliver(monitor: Monitor, message: MonitorMessage): void {
    try {
      monitor.callback(message);
    } catch (error) {
      this.#logger.warn({ err: error, message }, "monitor callback threw");
    }
  }
}
