import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The workspace root, found relative to this file (the packages live side by side in it). */
const WORKSPACE = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * Where the session server lives in the workspace: its sources, its build, and what the build
 * bundles (the sources of the workspace packages it depends on, and the lockfile that pins the
 * rest). The server-manager tests check that `bundledSources` matches the session server's
 * workspace dependencies.
 */
export const SESSION_SERVER_LAYOUT = Object.freeze({
  main: join(WORKSPACE, "packages/session-server/src/main.ts"),
  built: join(WORKSPACE, "packages/session-server/dist/rialto-session-server.js"),
  bundledSources: Object.freeze([
    join(WORKSPACE, "packages/session-server/src"),
    join(WORKSPACE, "packages/protocol/src"),
    join(WORKSPACE, "packages/shm/src"),
    join(WORKSPACE, "bun.lock"),
  ]),
});

/**
 * The default session server argv: the current Bun running the bundled session server
 * (`bun run build` makes `packages/session-server/dist/rialto-session-server.js`, a bytecode
 * bundle that starts several times faster than the sources), or the sources themselves when
 * there is no build or it is older than any file it bundles, so an edited source is never
 * shadowed by a stale build.
 */
export function defaultSessionServerCommand(layout = SESSION_SERVER_LAYOUT): readonly string[] {
  const entry = isBuildFresh(layout.built, layout.bundledSources) ? layout.built : layout.main;
  return Object.freeze([process.execPath, entry]);
}

/**
 * True when `built` exists and is at least as new as every file and directory under `sources`
 * (a directory's time covers a file deleted from it).
 */
export function isBuildFresh(built: string, sources: readonly string[]): boolean {
  const builtAt = modifiedAt(built);
  if (builtAt === undefined) return false;
  return sources.every((source) => newestModification(source) <= builtAt);
}

function modifiedAt(path: string): number | undefined {
  return statSync(path, { throwIfNoEntry: false })?.mtimeMs;
}

/** The newest mtime of `path` and, for a directory, of anything below it; 0 when it is missing. */
function newestModification(path: string): number {
  const stats = statSync(path, { throwIfNoEntry: false });
  if (stats === undefined) return 0;
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(path, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() && !entry.isDirectory()) continue;
    newest = Math.max(newest, modifiedAt(join(entry.parentPath, entry.name)) ?? 0);
  }
  return newest;
}
