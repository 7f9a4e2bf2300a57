import { RialtoError } from "@rialto/protocol";
import { closeFd, FdChannel } from "@rialto/shm";
import type { PassedSockets } from "./client-listener.ts";

/** The fd a spawned session server finds its fd channel on (the manager's SOCK_SEQPACKET pair). */
export const FD_CHANNEL_FD = 4;

/**
 * Takes the app's listening sockets the server manager sent on the fd channel `fd` just before
 * SetConfiguration (one SCM_RIGHTS record: the RPC socket, then the side channel). The channel
 * is closed afterwards: the manager passes sockets once per process. Throws PROTOCOL_ERROR when
 * no such record is queued.
 */
export function receivePassedSockets(fd: number = FD_CHANNEL_FD): PassedSockets {
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
