import { parseArgs } from "node:util";
import { RialtoError } from "@rialto/protocol";
import { type HttpAddress, parseHttpAddress } from "../http/http-address.ts";
import type { ServerManagerOptions } from "../options.ts";
import { defaultRuntimeDir } from "../runtime-dir.ts";

/** Usage of `rialto-server-manager`. */
export const DAEMON_USAGE = `usage: rialto-server-manager [options]
  --control-socket <path>           control socket (default $RIALTO_CONTROL_SOCKET, else <runtime dir>/control.sock)
  --runtime-dir <dir>               runtime dir (default $XDG_RUNTIME_DIR/rialto, else /tmp/rialto-<uid>)
  --log-level <level>               fatal|error|warn|info|debug|trace|silent (default info)
  --preloaded-servers <n>           session servers kept waiting in Uninitialised (default 0)
  --ready-timeout-ms <ms>           READY timer (default 1000)
  --health-check-interval-ms <ms>   ping period, 0 = off (default 5000)
  --failed-pings <n>                unanswered pings that count as a hang (default 3)
  --no-restart                      do not restart crashed or hung session servers
  --park-inactive-after-ms <ms>     park an app Inactive with no client this long (no process
                                    until a client connects or it goes Active); 0: never
                                    (default 60000)
  --session-server-command <json>   session server argv as a JSON array of strings
  --http [<address>:]<port>         serve the web monitor, /metrics and /api on this address
                                    (default address 127.0.0.1; port 0 picks a free one)
  --http-allow-remote               allow a non-loopback --http address
  --http-control                    allow start/activate/deactivate/stop over HTTP with a token
                                    (printed on stdout, or read from --http-token-file)
  --http-token-file <path>          the control token, first line of a file of mode 0600
  -h, --help                        this text`;

/** What `--http` and its companions asked for. */
export interface DaemonHttpArguments {
  address: HttpAddress;
  /** `--http-control`: actions allowed with the token. */
  control: boolean;
  /** `--http-token-file`; without it a fresh token is printed. */
  tokenFile?: string;
}

/** The parsed daemon command line. */
export interface DaemonArguments {
  controlSocket: string;
  options: ServerManagerOptions;
  /** The web monitor, when `--http` was given. */
  http?: DaemonHttpArguments;
  help: boolean;
}

/**
 * Parses the daemon's command line; `env` supplies `RIALTO_CONTROL_SOCKET` and the runtime-dir
 * default. Throws INVALID_ARGUMENT naming the bad argument (option values are checked again,
 * with exact messages, by `new ServerManager`).
 */
export function parseDaemonArguments(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): DaemonArguments {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        "control-socket": { type: "string" },
        "runtime-dir": { type: "string" },
        "log-level": { type: "string" },
        "preloaded-servers": { type: "string" },
        "ready-timeout-ms": { type: "string" },
        "health-check-interval-ms": { type: "string" },
        "failed-pings": { type: "string" },
        "no-restart": { type: "boolean" },
        "park-inactive-after-ms": { type: "string" },
        "session-server-command": { type: "string" },
        http: { type: "string" },
        "http-allow-remote": { type: "boolean" },
        "http-control": { type: "boolean" },
        "http-token-file": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new RialtoError("INVALID_ARGUMENT", (error as Error).message);
  }
  const options: ServerManagerOptions = {};
  const runtimeDir = values["runtime-dir"] as string | undefined;
  if (runtimeDir !== undefined) options.runtimeDir = runtimeDir;
  if (values["log-level"] !== undefined) {
    options.logLevel = values["log-level"] as ServerManagerOptions["logLevel"];
  }
  const preloaded = integer(values, "preloaded-servers");
  if (preloaded !== undefined) options.preloadedServers = preloaded;
  const ready = integer(values, "ready-timeout-ms");
  if (ready !== undefined) options.readyTimeoutMs = ready;
  const interval = integer(values, "health-check-interval-ms");
  if (interval !== undefined) options.healthCheckIntervalMs = interval;
  const pings = integer(values, "failed-pings");
  if (pings !== undefined) options.failedPingsBeforeRecovery = pings;
  if (values["no-restart"] === true) options.restartOnFailure = false;
  const park = integer(values, "park-inactive-after-ms");
  if (park !== undefined) options.parkInactiveAfterMs = park;
  const command = values["session-server-command"] as string | undefined;
  if (command !== undefined) options.sessionServerCommand = jsonArgv(command);
  const controlSocket =
    (values["control-socket"] as string | undefined) ??
    env.RIALTO_CONTROL_SOCKET ??
    `${runtimeDir ?? defaultRuntimeDir(env)}/control.sock`;
  const result: DaemonArguments = { controlSocket, options, help: values.help === true };
  const http = httpArguments(values);
  if (http !== undefined) result.http = http;
  return result;
}

function httpArguments(values: Record<string, unknown>): DaemonHttpArguments | undefined {
  const address = values.http as string | undefined;
  const tokenFile = values["http-token-file"] as string | undefined;
  const control = values["http-control"] === true;
  if (address === undefined) {
    for (const name of ["http-allow-remote", "http-control", "http-token-file"]) {
      if (values[name] !== undefined) {
        throw new RialtoError("INVALID_ARGUMENT", `--${name} needs --http`);
      }
    }
    return undefined;
  }
  if (tokenFile !== undefined && !control) {
    throw new RialtoError("INVALID_ARGUMENT", "--http-token-file needs --http-control");
  }
  const http: DaemonHttpArguments = {
    address: parseHttpAddress(address, values["http-allow-remote"] === true),
    control,
  };
  if (tokenFile !== undefined) http.tokenFile = tokenFile;
  return http;
}

function integer(values: Record<string, unknown>, name: string): number | undefined {
  const text = values[name];
  if (text === undefined) return undefined;
  if (typeof text !== "string" || !/^\d{1,9}$/.test(text)) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `--${name} must be a non-negative integer, got "${text}"`,
    );
  }
  return Number(text);
}

function jsonArgv(text: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value) || !value.every((part) => typeof part === "string")) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `--session-server-command must be a JSON array of strings, got ${text.slice(0, 80)}`,
    );
  }
  return value;
}
