import { LISTENING_FDS_ENV, RialtoError } from "@rialto/protocol";
import { closeFd, FdChannel, loadLibc } from "@rialto/shm";
import type { PassedSockets } from "./client-listener.ts";

/** The fd a spawned session server finds its fd channel on (the manager's SOCK_SEQPACKET pair). */
export const FD_CHANNEL_FD = 4;

/**
 * Takes the app's listening sockets the server manager passed: inherited at spawn when
 * {@link LISTENING_FDS_ENV} names them (a session server spawned for its app), else sent on the
 * fd channel `fd` just before SetConfiguration (one SCM_RIGHTS record: the RPC socket, then the
 * side channel; a preloaded session server), which is closed afterwards: the manager passes
 * sockets once per process. Throws PROTOCOL_ERROR when neither holds two sockets.
 */
export function receivePassedSockets(
  fd: number = FD_CHANNEL_FD,
  env: Record<string, string | undefined> = process.env,
): PassedSockets {
  const inherited = env[LISTENING_FDS_ENV];
  if (inherited !== undefined) {
    // Named once: a process this one starts must not take them for its own.
    delete env[LISTENING_FDS_ENV];
    const [rpc, sideChannel, ...extra] = inherited.split(",").map(Number);
    if (extra.length > 0 || !isFd(rpc) || !isFd(sideChannel)) {
      throw new RialtoError(
        "PROTOCOL_ERROR",
        `${LISTENING_FDS_ENV}="${inherited.slice(0, 40)}" does not name two fds (<rpc>,<side channel>)`,
      );
    }
    return { rpc, sideChannel };
  }
  let channel: FdChannel;
  try {
    channel = FdChannel.fromFd(fd);
  } catch (error) {
    throw new RialtoError("PROTOCOL_ERROR", `no fd channel on fd ${fd}: ${String(error)}`, {
      cause: error,
    });
  }
  try {
    const record = channel.receive();
    const [rpc, sideChannel, ...extra] = record?.fds ?? [];
    for (const unexpected of extra) closeFd(unexpected);
    if (rpc === undefined || sideChannel === undefined) {
      if (rpc !== undefined) closeFd(rpc);
      throw new RialtoError(
        "PROTOCOL_ERROR",
        `the manager passed ${record?.fds.length ?? 0} sockets on fd ${fd}, expected 2`,
      );
    }
    return { rpc, sideChannel };
  } finally {
    channel.close();
  }
}

function isFd(value: number | undefined): value is number {
  return value !== undefined && Number.isInteger(value) && value > 2;
}

/**
 * A spawned session server without inherited sockets (a preloaded one, started before its app
 * was known) takes them from its fd channel, which needs bun:ffi: it is loaded right after the
 * server is ready, while it waits for an app, so that the app's start does not pay for it
 * (about 10 ms).
 */
export function prepareToReceiveSockets(
  env: Record<string, string | undefined> = process.env,
): void {
  if (env[LISTENING_FDS_ENV] !== undefined) return;
  setTimeout(loadLibc, 0).unref();
}
