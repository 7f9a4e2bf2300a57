import type { LogLevel } from "@rialto/protocol";
import type * as Pino from "pino";

/**
 * What the session server logs through: pino's call shape (`logger.info({ field }, "message")`),
 * its level (settable at run time) and its bindings. A pino `Logger` is one (tests pass their
 * own); {@link createSessionServerLogger} makes the process's.
 */
export interface SessionServerLogger {
  /** The current level, one of {@link LOG_LEVEL_VALUES}' names. */
  level: string;
  fatal: Pino.LogFn;
  error: Pino.LogFn;
  warn: Pino.LogFn;
  info: Pino.LogFn;
  debug: Pino.LogFn;
  trace: Pino.LogFn;
  /** Adds fields to every later line (the app id, once known). */
  setBindings(bindings: Record<string, unknown>): void;
}

/** pino's default level numbers: a line is written when its level's number is ≥ the logger's. */
export const LOG_LEVEL_VALUES: Readonly<Record<string, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};

/** Options of {@link createSessionServerLogger}. */
export interface SessionServerLoggerOptions {
  /** Level until SetConfiguration sets one; default `"info"`. */
  level?: LogLevel;
  /** Where the JSON lines go; default stderr (fd 2), written synchronously. */
  destination?: Pino.DestinationStream;
  /** The app id, when known at start (joined mode); otherwise bound on SetConfiguration. */
  appId?: string;
}

type LineLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

/**
 * The session server's logger: pino JSON lines with `pid` bound (and `appId` once known, via
 * `setBindings`). One logger for the whole process, so that `logger.level = ...` at run time
 * (control/setLogLevel) reaches every line; pino child loggers would keep their old level.
 *
 * pino itself is loaded with the first line the level lets through. It brings several of
 * Node's modules (events, worker_threads, util, diagnostics_channel) that cost an idle session
 * server about 5 MiB of memory and 10 ms of start-up, and an app whose log level is `warn` or
 * quieter usually writes no line while it waits Inactive.
 */
export function createSessionServerLogger(
  options: SessionServerLoggerOptions = {},
): SessionServerLogger {
  return new DeferredPinoLogger(options);
}

class DeferredPinoLogger implements SessionServerLogger {
  readonly fatal = this.#lineAt("fatal");
  readonly error = this.#lineAt("error");
  readonly warn = this.#lineAt("warn");
  readonly info = this.#lineAt("info");
  readonly debug = this.#lineAt("debug");
  readonly trace = this.#lineAt("trace");
  #level: string;
  readonly #bindings: Record<string, unknown> = {};
  readonly #destination: Pino.DestinationStream | undefined;
  #pino: Pino.Logger | undefined;

  constructor(options: SessionServerLoggerOptions) {
    this.#level = options.level ?? "info";
    this.#destination = options.destination;
    if (options.appId !== undefined) this.#bindings.appId = options.appId;
  }

  get level(): string {
    return this.#pino?.level ?? this.#level;
  }

  set level(level: string) {
    if (this.#pino !== undefined) this.#pino.level = level;
    else this.#level = level;
  }

  setBindings(bindings: Record<string, unknown>): void {
    if (this.#pino !== undefined) this.#pino.setBindings(bindings);
    else Object.assign(this.#bindings, bindings);
  }

  #lineAt(level: LineLevel): Pino.LogFn {
    const value = LOG_LEVEL_VALUES[level] ?? 0;
    return ((...args: Parameters<Pino.LogFn>) => {
      if (this.#pino === undefined && value < (LOG_LEVEL_VALUES[this.#level] ?? 0)) return;
      this.#loaded()[level](...args);
    }) as Pino.LogFn;
  }

  #loaded(): Pino.Logger {
    if (this.#pino !== undefined) return this.#pino;
    const pino = require("pino") as typeof Pino.pino;
    // Synchronous writes: the few control-path lines must not be lost when the process exits
    // right after reporting NotRunning or Error.
    const destination = this.#destination ?? pino.destination({ dest: 2, sync: true });
    const logger = pino(
      { name: "rialto-session-server", level: this.#level, base: { pid: process.pid } },
      destination,
    );
    if (Object.keys(this.#bindings).length > 0) logger.setBindings(this.#bindings);
    this.#pino = logger;
    return logger;
  }
}
