#!/usr/bin/env bun
import { type ConnectionLimits, readConnectionLimits, toRialtoError } from "@rialto/protocol";
import pino from "pino";
import { generateToken, readTokenFile } from "../http/control-token.ts";
import { type MonitorHttp, startMonitorHttp } from "../http/monitor-http-server.ts";
import { ServerManager } from "../server-manager.ts";
import { startControlServer } from "./control-server.ts";
import { DAEMON_USAGE, parseDaemonArguments } from "./daemon-arguments.ts";

/**
 * `rialto-server-manager` (SPEC 3.2): runs a {@link ServerManager} behind a control socket until
 * SIGTERM or SIGINT, which stop every app cleanly (no process left) and exit 0. Exit 2 on bad
 * arguments, 1 when the daemon cannot start (e.g. the control socket is in use).
 */
export async function main(
  argv: readonly string[] = process.argv.slice(2),
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  let args: ReturnType<typeof parseDaemonArguments>;
  try {
    args = parseDaemonArguments(argv, env);
  } catch (error) {
    process.stderr.write(
      `rialto-server-manager: ${toRialtoError(error).message}\n${DAEMON_USAGE}\n`,
    );
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${DAEMON_USAGE}\n`);
    return 0;
  }
  const logger = pino(
    { name: "rialto-server-manager", level: args.options.logLevel ?? "info" },
    pino.destination({ fd: 2, sync: true }),
  );
  let manager: ServerManager;
  try {
    manager = new ServerManager({ ...args.options, logger });
  } catch (error) {
    process.stderr.write(`rialto-server-manager: ${toRialtoError(error).message}\n`);
    return 2;
  }
  let control: Awaited<ReturnType<typeof startControlServer>>;
  try {
    // The deadlines and output limits of the environment (RIALTO_FRAME_TIMEOUT_MS, ...); the
    // connection cap only when set there (the control socket's default is higher).
    const limits: Partial<ConnectionLimits> = readConnectionLimits(env);
    if (env.RIALTO_MAX_CONNECTIONS === undefined) delete limits.maxConnections;
    control = await startControlServer(manager, { path: args.controlSocket, logger, limits });
  } catch (error) {
    await manager.close();
    process.stderr.write(`rialto-server-manager: ${toRialtoError(error).message}\n`);
    return 1;
  }
  logger.info({ controlSocket: control.path, runtimeDir: manager.runtimeDir }, "listening");
  let monitor: MonitorHttp | undefined;
  if (args.http !== undefined) {
    try {
      monitor = startWebMonitor(manager, args.http, logger);
    } catch (error) {
      control.close();
      await manager.close();
      const failure = toRialtoError(error);
      process.stderr.write(`rialto-server-manager: ${failure.message}\n`);
      // A bad token file is a usage error; a port in use is a failure to start.
      return failure.code === "INVALID_ARGUMENT" ? 2 : 1;
    }
  }
  const stopped = Promise.withResolvers<NodeJS.Signals>();
  process.once("SIGTERM", () => stopped.resolve("SIGTERM"));
  process.once("SIGINT", () => stopped.resolve("SIGINT"));
  const signal = await stopped.promise;
  logger.info({ signal }, "stopping every app");
  control.close();
  await monitor?.close();
  await manager.close();
  logger.info("stopped");
  return 0;
}

/**
 * Starts `--http`: prints its address on stdout (`rialto-server-manager: monitor at <url>`) and,
 * for `--http-control` without a token file, the fresh token (`... control token <hex>`).
 */
function startWebMonitor(
  manager: ServerManager,
  http: NonNullable<ReturnType<typeof parseDaemonArguments>["http"]>,
  logger: pino.Logger,
): MonitorHttp {
  let controlToken: string | undefined;
  if (http.control) {
    controlToken = http.tokenFile !== undefined ? readTokenFile(http.tokenFile) : generateToken();
  }
  const monitor = startMonitorHttp(manager, { ...http.address, controlToken, logger });
  process.stdout.write(`rialto-server-manager: monitor at ${monitor.url}\n`);
  if (controlToken !== undefined && http.tokenFile === undefined) {
    process.stdout.write(`rialto-server-manager: control token ${controlToken}\n`);
  }
  logger.info({ url: monitor.url, control: http.control }, "web monitor listening");
  return monitor;
}

if (import.meta.main) process.exit(await main());
