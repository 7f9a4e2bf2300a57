import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { AV_MEMFD_NAME } from "@rialto/session-server";

/** How the session server's AV memfd shows in `/proc/<pid>/fd`: `/memfd:rialto-av (deleted)`. */
export const AV_MEMFD_LINK = `/memfd:${AV_MEMFD_NAME}`;

/** True when no process with `pid` exists any more, zombies included (a zombie still has /proc/<pid>). */
export function processGone(pid: number): boolean {
  return !existsSync(`/proc/${pid}`);
}

/** The pids of `pid`'s children, from `/proc/<pid>/task/<tid>/children`; empty once it is gone. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
      if (text !== "") children.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // The process (or one of its threads) ended while we read.
  }
  return children;
}

/** Targets of the process's open fds (`socket:[..]`, `/memfd:rialto-av (deleted)`, ...). */
export function openFdTargets(pid: number): string[] {
  const dir = `/proc/${pid}/fd`;
  const targets: string[] = [];
  for (const name of readdirSync(dir)) {
    try {
      targets.push(readlinkSync(`${dir}/${name}`));
    } catch {
      // Closed between readdir and readlink.
    }
  }
  return targets;
}

/** How many of `pid`'s fds are the session server's AV memfd. */
export function avMemfdCount(pid: number): number {
  return openFdTargets(pid).filter((target) => target.startsWith(AV_MEMFD_LINK)).length;
}

/** Names of the Unix socket files directly inside `dir` (none when `dir` does not exist). */
export function socketFilesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => {
    try {
      return statSync(join(dir, name)).isSocket();
    } catch {
      return false;
    }
  });
}

/**
 * Throws naming what is left when a client socket remains in `dir` after a test stopped
 * everything. The fd side channels (`<socket>.fd`) are not counted: the manager does not yet
 * remove the one a killed session server leaves behind (lifecycle-failures.test.ts holds that
 * regression test).
 */
export function assertNoClientSocketsLeft(dir: string): void {
  const left = socketFilesIn(dir).filter((name) => !name.endsWith(".fd"));
  if (left.length > 0) throw new Error(`sockets left in ${dir}: ${left.join(", ")}`);
}
