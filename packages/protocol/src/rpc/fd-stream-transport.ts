import { RialtoError, toRialtoError } from "../errors.ts";
import {
  fdStreamTransport,
  type SocketTransport,
  type SocketTransportOptions,
} from "./socket-transport.ts";

/**
 * Wraps a stream-socket fd (the control channel on fd 3, a socketpair end, an accepted
 * connection) in a {@link SocketTransport} over an {@link FdSocket}: Bun's file I/O rather than a
 * Bun socket, so an idle process is not woken every second by Bun's runtime; every limit of
 * `options` applies as on a Bun socket. Takes ownership of the fd. Rejects with CONNECTION_LOST
 * when `fd` is not an open socket. The check is Bun's own `stat`: node:fs would cost a session
 * server's start-up several ms more.
 */
export async function openFdStream(
  fd: number,
  options: SocketTransportOptions = {},
): Promise<SocketTransport> {
  let problem: string | undefined;
  try {
    if (!(await Bun.file(fd).stat()).isSocket()) problem = "not a socket";
  } catch (error) {
    problem = toRialtoError(error).message;
  }
  if (problem !== undefined) {
    throw new RialtoError("CONNECTION_LOST", `cannot use fd ${fd} as a socket: ${problem}`);
  }
  return fdStreamTransport(fd, options);
}
