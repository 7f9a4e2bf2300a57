import type * as NodeUtil from "node:util";
import { APP_ID_PATTERN, type LogLevel, RialtoError } from "@rialto/protocol";

/** Usage text printed by `--help` and with argument errors. */
export const USAGE = `usage: rialto-session-server [--log-level <level>]
       RIALTO_CONTROL_SOCKET=<path> rialto-session-server --app-id <app> [--control-socket <path>]

Without --app-id the control channel is the stream socket inherited as fd 3 (spawned by the
server manager). With --app-id the session server joins a running rialto-server-manager daemon:
it connects to its control socket (--control-socket, else $RIALTO_CONTROL_SOCKET, else
<runtime dir>/control.sock) and announces itself for that app.`;

/** Where the control channel comes from. */
export type ControlEndpoint =
  /** A stream socket inherited from the spawning manager. */
  | { kind: "fd"; fd: number }
  /** The daemon's control socket, joined with `control/announce` for `appId`. */
  | { kind: "joined"; socketPath: string; appId: string };

/** The parsed command line. */
export interface SessionServerArguments {
  control: ControlEndpoint;
  /** Log level until SetConfiguration sets one; default `"info"`. */
  logLevel: LogLevel;
  /** `--help` was given: print {@link USAGE} and exit 0. */
  help: boolean;
}

/** The fd a spawned session server finds its control channel on. */
export const CONTROL_CHANNEL_FD = 3;

const LOG_LEVELS: readonly string[] = [
  "fatal",
  "error",
  "warn",
  "info",
  "debug",
  "trace",
  "silent",
];
const APP_ID = new RegExp(APP_ID_PATTERN);

/**
 * The daemon's default control socket (SPEC 3.2): `$XDG_RUNTIME_DIR/rialto/control.sock`, else
 * `/tmp/rialto-<uid>/control.sock`.
 */
export function defaultControlSocketPath(env: Record<string, string | undefined>): string {
  const runtimeDir = env.XDG_RUNTIME_DIR
    ? `${env.XDG_RUNTIME_DIR}/rialto`
    : `/tmp/rialto-${process.getuid?.() ?? 0}`;
  return `${runtimeDir}/control.sock`;
}

/**
 * Parses the session server's command line (without the `bun` and script entries). Joined
 * mode is chosen by `--app-id` alone: a spawned session server may inherit
 * `RIALTO_CONTROL_SOCKET` from the daemon's environment and must still use fd 3.
 * Throws INVALID_ARGUMENT naming the offending argument.
 */
export function parseArguments(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): SessionServerArguments {
  let values: {
    "app-id"?: string;
    "control-socket"?: string;
    "log-level"?: string;
    help?: boolean;
  };
  // What the server manager spawns: no arguments. node:util (parseArgs) costs a session server
  // several ms of start-up and MiB of memory, so it loads only when there is something to parse.
  if (argv.length === 0)
    return { control: { kind: "fd", fd: CONTROL_CHANNEL_FD }, logLevel: "info", help: false };
  const { parseArgs } = require("node:util") as typeof NodeUtil;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        "app-id": { type: "string" },
        "control-socket": { type: "string" },
        "log-level": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new RialtoError("INVALID_ARGUMENT", `bad arguments: ${(error as Error).message}`);
  }
  const logLevel = values["log-level"] ?? "info";
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `--log-level "${logLevel}" is not one of ${LOG_LEVELS.join(", ")}`,
    );
  }
  const appId = values["app-id"];
  if (appId === undefined && values["control-socket"] !== undefined) {
    throw new RialtoError("INVALID_ARGUMENT", "--control-socket needs --app-id (joined mode)");
  }
  let control: ControlEndpoint = { kind: "fd", fd: CONTROL_CHANNEL_FD };
  if (appId !== undefined) {
    if (!APP_ID.test(appId)) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `--app-id "${appId.slice(0, 80)}" must match ${APP_ID_PATTERN}`,
      );
    }
    const socketPath =
      values["control-socket"] ?? env.RIALTO_CONTROL_SOCKET ?? defaultControlSocketPath(env);
    control = { kind: "joined", socketPath, appId };
  }
  return { control, logLevel: logLevel as LogLevel, help: values.help ?? false };
}
