#!/usr/bin/env bun
import {
  ControlSocketEvents,
  ControlSocketMethods,
  connectUnix,
  type MonitorMessage,
  RialtoError,
  RpcPeer,
  type SessionServerState,
  toRialtoError,
} from "@rialto/protocol";
import {
  CLI_USAGE,
  type CliArguments,
  type CliCommand,
  parseCliArguments,
} from "./cli-arguments.ts";
import { CliOutput } from "./output.ts";

/** Exit code of `rialtoctl` when the request failed. */
export const EXIT_FAILED = 1;
/** Exit code of `rialtoctl` on bad usage. */
export const EXIT_USAGE = 2;

/**
 * `rialtoctl` (SPEC 3.2): one command against the daemon's control socket. Resolves with the
 * exit code: 0 ok, 1 the request failed (one line on stderr), 2 bad usage.
 */
export async function main(
  argv: readonly string[] = process.argv.slice(2),
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  let args: CliArguments;
  try {
    args = parseCliArguments(argv, env);
  } catch (error) {
    const failure = toRialtoError(error);
    new CliOutput(argv.includes("--json")).error(failure);
    process.stderr.write(`${CLI_USAGE}\n`);
    return EXIT_USAGE;
  }
  const output = new CliOutput(args.json);
  if (args.command.name === "help") {
    process.stdout.write(`${CLI_USAGE}\n`);
    return 0;
  }
  let peer: RpcPeer | undefined;
  const disconnected = Promise.withResolvers<void>();
  try {
    peer = new RpcPeer({
      name: "rialtoctl",
      timeoutMs: args.timeoutMs,
      onTransportClose: () => disconnected.resolve(),
    });
    peer.attach(await connectUnix(args.controlSocket));
    if (args.command.name === "monitor") return await monitor(peer, output, disconnected.promise);
    return await run(peer, args.command, output, args.timeoutMs);
  } catch (error) {
    output.error(toRialtoError(error));
    return EXIT_FAILED;
  } finally {
    peer?.close();
  }
}

async function run(
  peer: RpcPeer,
  command: Exclude<CliCommand, { name: "help" | "monitor" }>,
  output: CliOutput,
  timeoutMs: number,
): Promise<number> {
  const M = ControlSocketMethods;
  switch (command.name) {
    case "start": {
      const { appId, state, config } = command;
      const reached = command.wait ? await watchApp(peer, appId, state) : undefined;
      await peer.call(M.initiateApplication, { appId, state, config });
      const finalState = await reached?.wait(timeoutMs);
      if (finalState !== undefined && finalState !== state) {
        return failed(output, appId, state, finalState);
      }
      const info = await appInfo(peer, appId);
      output.record(info, `${appId} ${info.state ?? "NotRunning"} ${info.socketPath ?? ""}`.trim());
      return 0;
    }
    case "set": {
      const { appId, state } = command;
      const reached = command.wait ? await watchApp(peer, appId, state) : undefined;
      await peer.call(M.changeSessionServerState, { appId, state });
      const finalState = await reached?.wait(timeoutMs);
      if (finalState !== undefined && finalState !== state) {
        return failed(output, appId, state, finalState);
      }
      const shown = finalState ?? (await peer.call(M.getState, { appId })).state ?? "NotRunning";
      output.record({ appId, state: shown }, `${appId} ${shown}`);
      return 0;
    }
    case "ls":
      output.applications((await peer.call(M.listApplications, {})).applications);
      return 0;
    case "info": {
      const socketPath = (await peer.call(M.getAppConnectionInfo, { appId: command.appId }))
        .socketPath;
      const info = await appInfo(peer, command.appId);
      const lines = [`app: ${command.appId}`, `state: ${info.state ?? "NotRunning"}`];
      if (info.pid !== undefined) lines.push(`pid: ${info.pid}`);
      lines.push(`socket: ${socketPath}`);
      output.record({ ...info, socketPath }, lines.join("\n"));
      return 0;
    }
    case "log-level": {
      const params =
        command.appId === undefined
          ? { level: command.level }
          : { level: command.level, appId: command.appId };
      await peer.call(M.setLogLevel, params);
      output.record(
        params,
        `log level ${command.level} (${command.appId ?? "manager and every app"})`,
      );
      return 0;
    }
  }
}

/**
 * Prints every monitor message until SIGINT/SIGTERM (then `monitor/quit` and exit 0) or until the
 * daemon closes the connection (exit 1).
 */
async function monitor(
  peer: RpcPeer,
  output: CliOutput,
  disconnected: Promise<void>,
): Promise<number> {
  peer.on(ControlSocketEvents.monitorMessage, (message) => output.monitor(message));
  const stop = Promise.withResolvers<"stopped">();
  process.once("SIGINT", () => stop.resolve("stopped"));
  process.once("SIGTERM", () => stop.resolve("stopped"));
  await peer.call(ControlSocketMethods.monitorAnnounce, {});
  const how = await Promise.race([stop.promise, disconnected.then(() => "lost" as const)]);
  if (how === "lost") {
    output.error(new RialtoError("CONNECTION_LOST", "the daemon closed the control socket"));
    return EXIT_FAILED;
  }
  await peer.call(ControlSocketMethods.monitorQuit, {}, { timeoutMs: 1000 }).catch(() => undefined);
  return 0;
}

/**
 * Becomes a monitor before a request so that no event of the app is missed, and returns a
 * waiter for the app's next settled state: `target`, Error, or NotRunning (forgotten).
 */
async function watchApp(
  peer: RpcPeer,
  appId: string,
  target: SessionServerState,
): Promise<{ wait(timeoutMs: number): Promise<SessionServerState> }> {
  const settled = Promise.withResolvers<SessionServerState>();
  peer.on(ControlSocketEvents.monitorMessage, (message: MonitorMessage) => {
    if (message.type !== "client_event" || message.appId !== appId) return;
    if (message.event === "removed") settled.resolve("NotRunning");
    if (message.event !== "state_changed" || message.state === undefined) return;
    if (message.state === target || message.state === "Error") settled.resolve(message.state);
  });
  await peer.call(ControlSocketMethods.monitorAnnounce, {});
  return {
    wait: async (timeoutMs) => {
      const timer = setTimeout(
        () =>
          settled.reject(
            new RialtoError(
              "TIMEOUT",
              `app "${appId}" did not reach ${target} within ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      try {
        return await settled.promise;
      } finally {
        clearTimeout(timer);
        await peer.call(ControlSocketMethods.monitorQuit, {}).catch(() => undefined);
      }
    },
  };
}

async function appInfo(
  peer: RpcPeer,
  appId: string,
): Promise<{ appId: string; state?: SessionServerState; pid?: number; socketPath?: string }> {
  const { applications } = await peer.call(ControlSocketMethods.listApplications, {});
  return applications.find((app) => app.appId === appId) ?? { appId };
}

function failed(
  output: CliOutput,
  appId: string,
  target: SessionServerState,
  reached: SessionServerState,
): number {
  output.error(new RialtoError("INVALID_STATE", `app "${appId}" ended ${reached}, not ${target}`));
  return EXIT_FAILED;
}

if (import.meta.main) {
  const code = await main();
  // Let stdout drain before exiting (it may be a pipe).
  process.stdout.write("", () => process.exit(code));
}
