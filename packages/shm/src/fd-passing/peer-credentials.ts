import { libc, type PeerCredentials } from "../libc.ts";

/**
 * Who is at the other end of the connected Unix socket `fd`: the pid, uid and gid the kernel
 * recorded when the peer connected (SO_PEERCRED), so a peer cannot claim to be someone else.
 * Works on any Unix socket fd, e.g. a Bun socket's (`SocketTransport.fd`). Throws a
 * `ShmError` naming the errno when `fd` is not a connected Unix socket.
 */
export function socketPeerCredentials(fd: number): PeerCredentials {
  return libc.peerCredentials(fd);
}
