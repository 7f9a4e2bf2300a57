import type { LogLevel } from "@rialto/protocol";
import pino, { type DestinationStream, type Logger } from "pino";

/** Options of {@link createSessionServerLogger}. */
export interface SessionServerLoggerOptions {
  /** Level until SetConfiguration sets one; default `"info"`. */
  level?: LogLevel;
  /** Where the JSON lines go; default stderr (fd 2), written synchronously. */
  destination?: DestinationStream;
  /** The app id, when known at start (joined mode); otherwise bound on SetConfiguration. */
  appId?: string;
}

/**
 * The session server's logger: pino JSON lines with `pid` bound (and `appId` once known, via
 * `logger.setBindings`). One logger for the whole process, so that `logger.level = ...` at run
 * time (control/setLogLevel) reaches every line; pino child loggers would keep their old level.
 */
export function createSessionServerLogger(options: SessionServerLoggerOptions = {}): Logger {
  // Synchronous writes: the few control-path lines must not be lost when the process exits
  // right after reporting NotRunning or Error.
  const destination = options.destination ?? pino.destination({ dest: 2, sync: true });
  const logger = pino(
    { name: "rialto-session-server", level: options.level ?? "info", base: { pid: process.pid } },
    destination,
  );
  if (options.appId !== undefined) logger.setBindings({ appId: options.appId });
  return logger;
}
