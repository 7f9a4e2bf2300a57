import { availableParallelism } from "node:os";
import { compileValidator, describeValue, LogLevel, RialtoError } from "@rialto/protocol";
import pino, { type Logger } from "pino";
import { defaultRuntimeDir, MAX_RUNTIME_DIR_LENGTH } from "./runtime-dir.ts";
import { defaultSessionServerCommand } from "./session-server-command.ts";
import { type SessionServerLauncher, spawnSessionServerProcess } from "./session-server-handle.ts";

/** Options of `new ServerManager(options)` (SPEC 3.1). Every field is optional. */
export interface ServerManagerOptions {
  /**
   * Directory of generated client sockets and of the daemon's control socket; created 0700.
   * Default `$XDG_RUNTIME_DIR/rialto`, else `/tmp/rialto-<uid>`. Absolute, at most 80 bytes.
   */
  runtimeDir?: string;
  /** How long a new session server has to send its first message, in ms: 1 .. 600000; default 1000. */
  readyTimeoutMs?: number;
  /** Health-check ping period in ms: 0 (off) or 10 .. 3600000; default 5000. */
  healthCheckIntervalMs?: number;
  /** Consecutive unanswered pings that count as a hang: 1 .. 100; default 3. */
  failedPingsBeforeRecovery?: number;
  /** Restart an Inactive/Active app whose session server crashed or hung; default true. */
  restartOnFailure?: boolean;
  /** Session servers started ahead and kept waiting in Uninitialised: 0 .. 16; default 0. */
  preloadedServers?: number;
  /**
   * The session server's argv. Default: the bundled session server run by the current Bun,
   * `[process.execPath, <repo>/packages/session-server/dist/rialto-session-server.js]`, or its
   * `src/main.ts` when that build is missing or stale (see `defaultSessionServerCommand`).
   */
  sessionServerCommand?: readonly string[];
  /** File mode of each app's client socket: 0 .. 0o777; default 0o660. */
  socketPermissions?: number;
  /** Log level of the manager and default log level of every app; default `"info"`. */
  logLevel?: LogLevel;
  /** The pino logger to use (its level is set to `logLevel` when that is given). Default: pino on stderr. */
  logger?: Logger;
  /** Environment of every session server process (an app's `config.env` is added). Default: ours. */
  env?: Record<string, string | undefined>;
  /**
   * How long a session server has to reach the state it was asked for (after SetConfiguration or
   * SetState) before it counts as failed and is killed, in ms: 1 .. 600000; default 5000.
   */
  transitionTimeoutMs?: number;
  /**
   * Grace period before a stopping session server is sent SIGTERM, and again before SIGKILL, in
   * ms: 1 .. 600000; default 2000.
   */
  stopTimeoutMs?: number;
  /**
   * Most apps whose calls run at once (starts, state changes, stops): each app's calls still run
   * in order, different apps' side by side up to this many, 1 .. 64; default twice the CPUs
   * (`os.availableParallelism()`), at least 2. 1 runs every call one after another.
   */
  maxConcurrentApps?: number;
  /**
   * Park an app that has been Inactive with no client for this long, in ms: 10 .. 3600000, or 0
   * (never); default 60000. A parked app has no session server: the manager keeps its listening
   * sockets (a client's connect is queued, never refused) and starts one again when a client
   * connects or the app is made Active. States, monitor events and the socket path stay as they
   * were: parking is invisible to the app manager and to clients, but for the first client's
   * wait for a session server to start.
   */
  parkInactiveAfterMs?: number;
  /**
   * How session servers are started; default {@link spawnSessionServerProcess} (a process
   * running `sessionServerCommand`). Tests give an in-memory fake (`FakeSessionServers`).
   */
  launchSessionServer?: SessionServerLauncher;
}

/** {@link ServerManagerOptions} with every default applied. */
export interface ResolvedOptions {
  runtimeDir: string;
  readyTimeoutMs: number;
  healthCheckIntervalMs: number;
  failedPingsBeforeRecovery: number;
  restartOnFailure: boolean;
  preloadedServers: number;
  sessionServerCommand: readonly string[];
  socketPermissions: number;
  logLevel: LogLevel;
  logger: Logger;
  env: Record<string, string>;
  transitionTimeoutMs: number;
  stopTimeoutMs: number;
  maxConcurrentApps: number;
  parkInactiveAfterMs: number;
  launchSessionServer: SessionServerLauncher;
}

const OPTION_NAMES: ReadonlySet<string> = new Set([
  "runtimeDir",
  "readyTimeoutMs",
  "healthCheckIntervalMs",
  "failedPingsBeforeRecovery",
  "restartOnFailure",
  "preloadedServers",
  "sessionServerCommand",
  "socketPermissions",
  "logLevel",
  "logger",
  "env",
  "transitionTimeoutMs",
  "stopTimeoutMs",
  "maxConcurrentApps",
  "launchSessionServer",
  "parkInactiveAfterMs",
]);

const MAX_TIMEOUT_MS = 600_000;
const logLevelValidator = compileValidator(LogLevel);

/**
 * Checks every option and applies the defaults; throws INVALID_ARGUMENT naming the first bad
 * option and its value, e.g. `new ServerManager: readyTimeoutMs must be an integer 1 .. 600000
 * (ms), got -5`.
 */
export function resolveOptions(options: ServerManagerOptions | undefined): ResolvedOptions {
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw invalid(`options must be an object, got ${describeValue(options)}`);
  }
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.has(name)) throw invalid(`unknown option ${JSON.stringify(name)}`);
  }
  const logLevel = options.logLevel ?? "info";
  if (!logLevelValidator.check(logLevel)) {
    throw invalid(
      `logLevel must be one of fatal, error, warn, info, debug, trace, silent, got ${describeValue(logLevel)}`,
    );
  }
  return {
    runtimeDir: runtimeDirOption(options.runtimeDir),
    readyTimeoutMs: integerOption(
      "readyTimeoutMs",
      options.readyTimeoutMs,
      1000,
      1,
      MAX_TIMEOUT_MS,
      " (ms)",
    ),
    healthCheckIntervalMs: healthCheckOption(options.healthCheckIntervalMs),
    failedPingsBeforeRecovery: integerOption(
      "failedPingsBeforeRecovery",
      options.failedPingsBeforeRecovery,
      3,
      1,
      100,
    ),
    restartOnFailure: booleanOption("restartOnFailure", options.restartOnFailure, true),
    preloadedServers: integerOption("preloadedServers", options.preloadedServers, 0, 0, 16),
    sessionServerCommand: commandOption(options.sessionServerCommand),
    socketPermissions: integerOption(
      "socketPermissions",
      options.socketPermissions,
      0o660,
      0,
      0o777,
    ),
    logLevel,
    logger: loggerOption(options.logger, options.logLevel),
    env: envOption(options.env),
    transitionTimeoutMs: integerOption(
      "transitionTimeoutMs",
      options.transitionTimeoutMs,
      5000,
      1,
      MAX_TIMEOUT_MS,
      " (ms)",
    ),
    stopTimeoutMs: integerOption(
      "stopTimeoutMs",
      options.stopTimeoutMs,
      2000,
      1,
      MAX_TIMEOUT_MS,
      " (ms)",
    ),
    maxConcurrentApps: integerOption(
      "maxConcurrentApps",
      options.maxConcurrentApps,
      Math.max(2, 2 * availableParallelism()),
      1,
      64,
    ),
    parkInactiveAfterMs: parkOption(options.parkInactiveAfterMs),
    launchSessionServer: launcherOption(options.launchSessionServer),
  };
}

/**
 * How long an app stays Inactive with no client before it is parked, by default: long enough
 * that an app manager's start-then-launch (an app initiated Inactive, its client connecting
 * seconds later) never meets a parked app; short enough that a TV's idle apps give their
 * memory and their health-check wake-ups back within a minute.
 */
const DEFAULT_PARK_INACTIVE_AFTER_MS = 60_000;

function parkOption(value: unknown): number {
  if (value === undefined) return DEFAULT_PARK_INACTIVE_AFTER_MS;
  if (value === 0) return 0;
  if (!Number.isInteger(value) || (value as number) < 10 || (value as number) > 3_600_000) {
    throw invalid(
      `parkInactiveAfterMs must be 0 (never) or an integer 10 .. 3600000 (ms), got ${describeValue(value)}`,
    );
  }
  return value as number;
}

function launcherOption(value: unknown): SessionServerLauncher {
  if (value === undefined) return spawnSessionServerProcess;
  if (typeof value !== "function") {
    throw invalid(`launchSessionServer must be a function, got ${describeValue(value)}`);
  }
  return value as SessionServerLauncher;
}

function invalid(message: string): RialtoError {
  return new RialtoError("INVALID_ARGUMENT", `new ServerManager: ${message}`);
}

function integerOption(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
  unit = "",
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(
      `${name} must be an integer ${min} .. ${max}${unit}, got ${describeValue(value)}`,
    );
  }
  return value;
}

function healthCheckOption(value: unknown): number {
  if (value === undefined) return 5000;
  if (value === 0) return 0;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 10 || value > 3_600_000) {
    throw invalid(
      `healthCheckIntervalMs must be 0 (off) or an integer 10 .. 3600000 (ms), got ${describeValue(value)}`,
    );
  }
  return value;
}

function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean")
    throw invalid(`${name} must be a boolean, got ${describeValue(value)}`);
  return value;
}

function runtimeDirOption(value: unknown): string {
  if (value === undefined) return defaultRuntimeDir(process.env);
  if (
    typeof value !== "string" ||
    !value.startsWith("/") ||
    value.includes("\0") ||
    Buffer.byteLength(value) > MAX_RUNTIME_DIR_LENGTH
  ) {
    throw invalid(
      `runtimeDir must be an absolute path of at most ${MAX_RUNTIME_DIR_LENGTH} bytes, got ${describeValue(value)}`,
    );
  }
  return value.length > 1 ? value.replace(/\/+$/, "") : value;
}

function commandOption(value: unknown): readonly string[] {
  if (value === undefined) return defaultSessionServerCommand();
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.length > 256 ||
    !value.every((part) => typeof part === "string" && part.length > 0 && !part.includes("\0"))
  ) {
    throw invalid(
      `sessionServerCommand must be a non-empty array of at most 256 non-empty strings, got ${describeValue(value)}`,
    );
  }
  return Object.freeze([...value]);
}

function loggerOption(value: unknown, level: LogLevel | undefined): Logger {
  if (value === undefined)
    return pino({ name: "server-manager", level: level ?? "info" }, pino.destination(2));
  const logger = value as Partial<Logger> | null;
  if (
    typeof logger !== "object" ||
    logger === null ||
    typeof logger.child !== "function" ||
    typeof logger.info !== "function"
  ) {
    throw invalid(`logger must be a pino logger, got ${describeValue(value)}`);
  }
  const resolved = logger as Logger;
  if (level !== undefined) resolved.level = level;
  return resolved;
}

function envOption(value: unknown): Record<string, string> {
  if (value === undefined) return definedEntries(process.env);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(`env must be an object of strings, got ${describeValue(value)}`);
  }
  const env = definedEntries(value as Record<string, string | undefined>);
  for (const [name, text] of Object.entries(env)) {
    if (typeof text !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || text.includes("\0")) {
      throw invalid(`env.${name} must be a string without NUL, got ${describeValue(text)}`);
    }
  }
  return env;
}

function definedEntries(env: Record<string, string | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) result[name] = value;
  return result;
}
