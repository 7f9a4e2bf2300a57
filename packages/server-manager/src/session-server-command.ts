import { fileURLToPath } from "node:url";

/**
 * The default session server argv: the current Bun running the session server package's
 * `src/main.ts`. The path is found relative to this file (both packages live in the same
 * workspace), which avoids a package dependency that exists only to locate a file.
 */
export function defaultSessionServerCommand(): readonly string[] {
  const main = fileURLToPath(new URL("../../session-server/src/main.ts", import.meta.url));
  return Object.freeze([process.execPath, main]);
}
