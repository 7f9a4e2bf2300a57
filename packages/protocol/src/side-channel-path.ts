/**
 * Where a session server's fd side channel listens, next to its client socket: SCM_RIGHTS
 * records travel there because Bun's own socket reads drop passed fds. The client connects to
 * it, the session server creates and removes it, the manager cleans it up after a crash.
 */
export function sideChannelPath(socketPath: string): string {
  return `${socketPath}.fd`;
}
