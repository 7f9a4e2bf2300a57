/**
 * The end of a benchmark child's main: tells the parent (`startChild` in child-process.ts) it
 * is "ready", then serves until the parent closes its stdin, then exits 0.
 */
export async function serveUntilStdinCloses(): Promise<never> {
  console.log("ready");
  for await (const _ of Bun.stdin.stream()) {
    // Runs until the parent closes our stdin.
  }
  process.exit(0);
}

/** The socket path given as the child's only argument; exits 2 with `usage` when it is missing. */
export function socketPathArgument(usage: string): string {
  const path = process.argv[2];
  if (path === undefined) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  return path;
}
