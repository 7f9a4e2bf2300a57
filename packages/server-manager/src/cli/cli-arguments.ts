import { parseArgs } from "node:util";
import {
  type AppConfig,
  compileValidator,
  LogLevel,
  type RequestedState,
  RialtoError,
} from "@rialto/protocol";
import { assertAppId } from "../app-config.ts";
import { defaultRuntimeDir } from "../runtime-dir.ts";

/** Usage of `rialtoctl`. */
export const CLI_USAGE = `usage: rialtoctl [--json] [--control-socket <path>] [--timeout <ms>] <command>
commands:
  start <app> [--active] [--max-playbacks N] [--web-audio] [--socket <name>] [--no-wait]
        [--engine virtual|gstreamer] [--clock realtime|freerun] [--sink null|checksum|device]
  set <app> inactive|active|stopped [--no-wait]
  ls
  info <app>
  monitor
  log-level <level> [app]
options:
  --json                    one JSON object per line (errors too, as {"error":{code,message}})
  --control-socket <path>   default $RIALTO_CONTROL_SOCKET, else <runtime dir>/control.sock
  --timeout <ms>            how long to wait for the daemon and for a state (default 15000)
  --no-wait                 return once the daemon accepted the request, not when the state is reached
exit codes: 0 ok, 1 the request failed, 2 bad usage`;

/** One parsed `rialtoctl` command. */
export type CliCommand =
  | { name: "start"; appId: string; state: "Inactive" | "Active"; config: AppConfig; wait: boolean }
  | { name: "set"; appId: string; state: RequestedState; wait: boolean }
  | { name: "ls" }
  | { name: "info"; appId: string }
  | { name: "monitor" }
  | { name: "log-level"; level: LogLevel; appId?: string }
  | { name: "help" };

/** The parsed command line. */
export interface CliArguments {
  command: CliCommand;
  json: boolean;
  controlSocket: string;
  timeoutMs: number;
}

const SET_STATES: Record<string, RequestedState> = {
  inactive: "Inactive",
  active: "Active",
  stopped: "NotRunning",
};
const logLevelValidator = compileValidator(LogLevel);

/** Parses `rialtoctl`'s command line. Throws INVALID_ARGUMENT with a one-line message. */
export function parseCliArguments(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): CliArguments {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: {
        json: { type: "boolean" },
        "control-socket": { type: "string" },
        timeout: { type: "string" },
        active: { type: "boolean" },
        "max-playbacks": { type: "string" },
        "web-audio": { type: "boolean" },
        socket: { type: "string" },
        engine: { type: "string" },
        clock: { type: "string" },
        sink: { type: "string" },
        "no-wait": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: true,
    }));
  } catch (error) {
    throw usage((error as Error).message);
  }
  const timeout = values.timeout as string | undefined;
  if (timeout !== undefined && !/^[1-9]\d{0,6}$/.test(timeout)) {
    throw usage(`--timeout must be a positive integer of milliseconds, got "${timeout}"`);
  }
  const parsed = {
    json: values.json === true,
    controlSocket:
      (values["control-socket"] as string | undefined) ??
      env.RIALTO_CONTROL_SOCKET ??
      `${defaultRuntimeDir(env)}/control.sock`,
    timeoutMs: timeout === undefined ? 15_000 : Number(timeout),
  };
  if (values.help === true) return { ...parsed, command: { name: "help" } };
  const [name, ...rest] = positionals;
  const startOnly = ["active", "max-playbacks", "web-audio", "socket", ...PLAYBACK_FLAGS].filter(
    (flag) => values[flag] !== undefined,
  );
  if (name !== "start" && startOnly.length > 0) {
    throw usage(`--${startOnly[0]} is an option of "start" only`);
  }
  if (values["no-wait"] !== undefined && name !== "start" && name !== "set") {
    throw usage(`--no-wait is an option of "start" and "set" only`);
  }
  const wait = values["no-wait"] !== true;
  switch (name) {
    case "start": {
      expectArity(name, rest, 1, 1);
      return { ...parsed, command: startCommand(appArgument(rest[0]), values, wait) };
    }
    case "set": {
      expectArity(name, rest, 2, 2);
      const state = SET_STATES[rest[1] as string];
      if (state === undefined) {
        throw usage(`set: state "${rest[1]}" must be inactive, active or stopped`);
      }
      return { ...parsed, command: { name, appId: appArgument(rest[0]), state, wait } };
    }
    case "ls":
      expectArity(name, rest, 0, 0);
      return { ...parsed, command: { name } };
    case "info":
      expectArity(name, rest, 1, 1);
      return { ...parsed, command: { name, appId: appArgument(rest[0]) } };
    case "monitor":
      expectArity(name, rest, 0, 0);
      return { ...parsed, command: { name } };
    case "log-level": {
      expectArity(name, rest, 1, 2);
      const level = rest[0];
      if (!logLevelValidator.check(level)) {
        throw usage(
          `log-level: "${level}" must be one of fatal, error, warn, info, debug, trace, silent`,
        );
      }
      const command: CliCommand = { name, level };
      if (rest[1] !== undefined) command.appId = appArgument(rest[1]);
      return { ...parsed, command };
    }
    case undefined:
      throw usage("no command given");
    default:
      throw usage(`unknown command "${name}"`);
  }
}

function startCommand(
  appId: string,
  values: Record<string, string | boolean | undefined>,
  wait: boolean,
): CliCommand {
  const config: AppConfig = {};
  const maxPlaybacks = values["max-playbacks"] as string | undefined;
  if (maxPlaybacks !== undefined) {
    if (!/^\d{1,2}$/.test(maxPlaybacks) || Number(maxPlaybacks) > 16) {
      throw usage(`start: --max-playbacks must be an integer 0 .. 16, got "${maxPlaybacks}"`);
    }
    config.resources = { maxPlaybackSessions: Number(maxPlaybacks) };
  }
  if (values["web-audio"] === true)
    config.resources = { ...config.resources, supportsWebAudio: true };
  const socket = values.socket as string | undefined;
  if (socket !== undefined) config.sessionManagementSocketName = socket;
  const playback = playbackConfig(values);
  if (playback !== undefined) config.playback = playback;
  return {
    name: "start",
    appId,
    state: values.active === true ? "Active" : "Inactive",
    config,
    wait,
  };
}

/** The `start` flags of `config.playback`, with the values each takes. */
const PLAYBACK_CHOICES = {
  engine: ["virtual", "gstreamer"],
  clock: ["realtime", "freerun"],
  sink: ["null", "checksum", "device"],
} as const;
const PLAYBACK_FLAGS = Object.keys(PLAYBACK_CHOICES) as (keyof typeof PLAYBACK_CHOICES)[];

function playbackConfig(
  values: Record<string, string | boolean | undefined>,
): AppConfig["playback"] | undefined {
  const playback: Record<string, string> = {};
  for (const flag of PLAYBACK_FLAGS) {
    const value = values[flag];
    if (value === undefined) continue;
    const choices: readonly string[] = PLAYBACK_CHOICES[flag];
    if (typeof value !== "string" || !choices.includes(value)) {
      throw usage(`start: --${flag} must be ${choices.join(", ")}, got "${value}"`);
    }
    playback[flag] = value;
  }
  return Object.keys(playback).length === 0 ? undefined : (playback as AppConfig["playback"]);
}

function appArgument(value: string | undefined): string {
  try {
    assertAppId(value, "rialtoctl");
  } catch (error) {
    throw usage((error as Error).message.replace(/^rialtoctl: /, ""));
  }
  return value;
}

function expectArity(command: string, rest: string[], min: number, max: number): void {
  if (rest.length < min) throw usage(`${command}: missing argument`);
  if (rest.length > max) throw usage(`${command}: unexpected argument "${rest[max]}"`);
}

function usage(message: string): RialtoError {
  return new RialtoError("INVALID_ARGUMENT", message, { details: { usage: true } });
}
