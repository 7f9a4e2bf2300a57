import { readdirSync, readFileSync } from "node:fs";

/** Number of open file descriptors of this process. */
export function openFdCount(): number {
  return readdirSync("/proc/self/fd").length;
}

/** Number of lines in /proc/self/maps that mention `needle`. */
export function mappingCount(needle: string): number {
  const text = readFileSync("/proc/self/maps", "utf8");
  return text.split("\n").filter((line) => line.includes(needle)).length;
}

/** True when the tests run as root and can therefore start a peer as user `nobody`. */
export const canSwitchUser = process.getuid?.() === 0;

/** uid and gid of `nobody`. */
export const NOBODY = 65534;

/** Command prefix that runs a program as `nobody` (only usable when {@link canSwitchUser}). */
export const AS_NOBODY = ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups"];
