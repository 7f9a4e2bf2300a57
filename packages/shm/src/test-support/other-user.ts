import { chmodSync, copyFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join } from "node:path";

/** True when users other than the owner can reach `path` and read (and, if asked, run) it. */
function othersCanUse(path: string, execute: boolean): boolean {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dir === dirname(dir)) break;
  }
  const mode = statSync(path).mode;
  return (mode & 0o004) !== 0 && (!execute || (mode & 0o001) !== 0);
}

/**
 * Prepares a test program to run as another user from `dir` (which that user can search):
 * bundles `entry` into one readable file, so the checkout may live where that user cannot
 * look, and uses the running Bun unless that user cannot reach it, in which case a copy
 * goes into `dir`.
 */
export async function stageForOtherUser(
  entry: string,
  dir: string,
): Promise<{ bun: string; script: string }> {
  const build = await Bun.build({
    entrypoints: [entry],
    target: "bun",
    outdir: dir,
    naming: "peer.js",
  });
  if (!build.success) throw new Error(`bundling ${entry} failed: ${build.logs.join("\n")}`);
  const script = join(dir, "peer.js");
  chmodSync(script, 0o644);
  let bun = realpathSync(process.execPath);
  if (!othersCanUse(bun, true)) {
    bun = join(dir, "bun");
    copyFileSync(process.execPath, bun);
    chmodSync(bun, 0o755);
  }
  return { bun, script };
}
