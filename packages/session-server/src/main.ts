#!/usr/bin/env bun
import { toRialtoError } from "@rialto/protocol";
import { parseArguments, USAGE } from "./cli-arguments.ts";
import { SessionServerExitCode } from "./exit-codes.ts";
import { runSessionServer } from "./run-session-server.ts";

/**
 * The `rialto-session-server` program: parses the command line, runs the session server until
 * it stops, and resolves with the exit code (it does not exit; {@link runMainAndExit} does).
 * SIGTERM and SIGINT clean up (socket files, shared memory, clients) and exit 143 / 130; an
 * uncaught fault is reported as Error before exiting 1.
 */
export async function main(
  argv: readonly string[] = process.argv.slice(2),
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  let args: ReturnType<typeof parseArguments>;
  try {
    args = parseArguments(argv, env);
  } catch (error) {
    process.stderr.write(`rialto-session-server: ${toRialtoError(error).message}\n${USAGE}\n`);
    return SessionServerExitCode.StartupFailed;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return SessionServerExitCode.Stopped;
  }
  // Files this process creates (sockets) start private; each gets its configured mode after.
  process.umask(0o077);
  let running: Awaited<ReturnType<typeof runSessionServer>>;
  try {
    running = await runSessionServer({ control: args.control, logLevel: args.logLevel });
  } catch (error) {
    process.stderr.write(
      `${JSON.stringify({ level: 60, time: Date.now(), pid: process.pid, msg: `cannot start: ${toRialtoError(error).message}` })}\n`,
    );
    return SessionServerExitCode.StartupFailed;
  }
  const onSignal = (signal: NodeJS.Signals, code: number) => () =>
    void running.stop(code, `received ${signal}`);
  const onTerm = onSignal("SIGTERM", SessionServerExitCode.Terminated);
  const onInt = onSignal("SIGINT", SessionServerExitCode.Interrupted);
  const onFault = (error: unknown) => {
    running.logger.fatal({ err: toRialtoError(error) }, "uncaught fault");
    void running.server.crash(`internal fault: ${toRialtoError(error).message}`);
  };
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  process.on("uncaughtException", onFault);
  process.on("unhandledRejection", onFault);
  try {
    return await running.exitCode;
  } finally {
    process.off("SIGTERM", onTerm);
    process.off("SIGINT", onInt);
    process.off("uncaughtException", onFault);
    process.off("unhandledRejection", onFault);
  }
}

/** Runs {@link main} and exits the process with its code. */
export async function runMainAndExit(): Promise<never> {
  process.exit(await main());
}

// Not a top-level await: a module without one can be compiled to bytecode
// (`bun build --compile --bytecode`), which starts the session server several times faster.
if (import.meta.main) void runMainAndExit();
