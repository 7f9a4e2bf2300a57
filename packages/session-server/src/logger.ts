import type { LogLevel } from "@rialto/protocol";
import type * as Pino from "pino";
import { plainBindings, plainLogLine } from "./plain-log-line.ts";

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

/** The `name` of every line. */
const LOGGER_NAME = "rialto-session-server";

/**
 * The session server's logger: pino JSON lines with `pid` bound (and `appId` once known, via
 * `setBindings`). One logger for the whole process, so that `logger.level = ...` at run time
 * (control/setLogLevel) reaches every line; pino child loggers would keep their old level.
 *
 * pino itself is loaded with the first line that is more than plain fields and a message (an
 * error, a nested object: `plainLogLine`); until then such lines are written as pino would
 * write them, without it. pino brings several of Node's modules (events, worker_threads, util,
 * diagnostics_channel) that cost an idle session server about 5 MiB of memory and 30 ms of
 * CPU at start-up, and the lines of a start and of an idle spell are all plain.
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
      if (this.#pino === undefined) {
        if (value < (LOG_LEVEL_VALUES[this.#level] ?? 0)) return;
        if (this.#writePlain(value, args)) return;
      }
      this.#loaded()[level](...args);
    }) as Pino.LogFn;
  }

  /** Writes the line as pino would when it is plain; false when pino must write it. */
  #writePlain(level: number, args: readonly unknown[]): boolean {
    const bindings = plainBindings(this.#bindings);
    if (bindings === undefined) return false;
    const prefix = `,"pid":${process.pid},"name":${JSON.stringify(LOGGER_NAME)}${bindings}`;
    const line = plainLogLine(level, Date.now(), prefix, args);
    if (line === undefined) return false;
    if (this.#destination !== undefined) {
      this.#destination.write(line);
      return true;
    }
    const { writeSync } = require("node:fs") as typeof import("node:fs");
    const bytes = Buffer.from(line);
    let written = 0;
    while (written < bytes.byteLength) {
      try {
        written += writeSync(2, bytes, written);
      } catch (error) {
        // A full non-blocking pipe: wait as pino's synchronous destination does. Anything else
        // before the first byte is pino's to report; after it, stderr is gone (EPIPE) and the
        // rest of the line with it.
        if ((error as NodeJS.ErrnoException).code !== "EAGAIN") return written > 0;
        Bun.sleepSync(1);
      }
    }
    return true;
  }

  #loaded(): Pino.Logger {
    if (this.#pino !== undefined) return this.#pino;
    const pino = require("pino") as typeof Pino.pino;
    // Synchronous writes: the few control-path lines must not be lost when the process exits
    // right after reporting NotRunning or Error.
    const destination = this.#destination ?? pino.destination({ dest: 2, sync: true });
    const logger = pino(
      { name: LOGGER_NAME, level: this.#level, base: { pid: process.pid } },
      destination,
    );
    if (Object.keys(this.#bindings).length > 0) logger.setBindings(this.#bindings);
    this.#pino = logger;
    return logger;
  }
}
