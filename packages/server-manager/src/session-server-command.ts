import { readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The session server's package, found through the manager's declared dependency on it. */
const SESSION_SERVER_PACKAGE = dirname(
  fileURLToPath(import.meta.resolve("@rialto/session-server/package.json")),
);

/**
 * Where the session server lives: its sources, its build, and the list of the files that build
 * read (`bun run build` writes it beside the bundle from Bun's metafile: the session server's
 * sources, those of the packages it imports, and the files of the dependencies it bundles;
 * paths relative to `packageDir`).
 */
export const SESSION_SERVER_LAYOUT = Object.freeze({
  packageDir: SESSION_SERVER_PACKAGE,
  main: join(SESSION_SERVER_PACKAGE, "src/main.ts"),
  built: join(SESSION_SERVER_PACKAGE, "dist/rialto-session-server.js"),
  inputs: join(SESSION_SERVER_PACKAGE, "dist/rialto-session-server.inputs.json"),
});

/** What {@link sessionServerBuildStatus} found. */
export type BuildStatus = { fresh: true } | { fresh: false; reason: string };

/**
 * Whether the session server's build can be run: it exists, it has its input list, and no file
 * the build read changed (or vanished) since. Files the build does not read (tests, docs,
 * `bun.lock` touched by `bun install`) do not count; a dependency that `bun install` really
 * changed does, through its bundled files. When stale, `reason` says why in one line.
 */
export function sessionServerBuildStatus(layout = SESSION_SERVER_LAYOUT): BuildStatus {
  const builtAt = statSync(layout.built, { throwIfNoEntry: false })?.mtimeMs;
  if (builtAt === undefined)
    return { fresh: false, reason: `there is no build at ${layout.built}` };
  let inputs: string[];
  try {
    inputs = (JSON.parse(readFileSync(layout.inputs, "utf8")) as { inputs: string[] }).inputs;
    if (!Array.isArray(inputs) || inputs.length === 0) throw new Error("no inputs listed");
  } catch {
    return { fresh: false, reason: `the build has no readable input list (${layout.inputs})` };
  }
  for (const input of inputs) {
    const path = resolve(layout.packageDir, input);
    const changedAt = statSync(path, { throwIfNoEntry: false })?.mtimeMs;
    if (changedAt === undefined)
      return { fresh: false, reason: `${input}, which it bundles, is gone` };
    if (changedAt > builtAt) return { fresh: false, reason: `${input} changed after the build` };
  }
  return { fresh: true };
}

/**
 * The default session server argv: the current Bun running the bundled session server
 * (`bun run build` makes `packages/session-server/dist/rialto-session-server.js`, a bytecode
 * bundle that starts several times faster than the sources), or the sources themselves when
 * the build is missing or stale ({@link sessionServerBuildStatus}), so an edited source is never
 * shadowed by a stale build.
 */
export function defaultSessionServerCommand(layout = SESSION_SERVER_LAYOUT): readonly string[] {
  const entry = sessionServerBuildStatus(layout).fresh ? layout.built : layout.main;
  return Object.freeze([process.execPath, entry]);
}
