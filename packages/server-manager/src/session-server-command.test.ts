import { afterEach, describe, expect, it } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  defaultSessionServerCommand,
  isBuildFresh,
  SESSION_SERVER_LAYOUT,
} from "./session-server-command.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fake workspace: two source trees and a lockfile written at `sourcesAt`, no build yet. */
function fakeLayout(sourcesAt: Date) {
  const dir = mkdtempSync(join(tmpdir(), "rialto-command-"));
  dirs.push(dir);
  const nested = join(dir, "server/src/media");
  mkdirSync(nested, { recursive: true });
  mkdirSync(join(dir, "protocol/src"), { recursive: true });
  const files = [join(nested, "engine.ts"), join(dir, "protocol/src/index.ts"), join(dir, "lock")];
  for (const file of files) {
    writeFileSync(file, "//");
    utimesSync(file, sourcesAt, sourcesAt);
  }
  for (const tree of [
    nested,
    join(dir, "server/src"),
    join(dir, "server"),
    join(dir, "protocol/src"),
  ]) {
    utimesSync(tree, sourcesAt, sourcesAt);
  }
  return {
    files,
    layout: {
      main: join(dir, "server/src/main.ts"),
      built: join(dir, "server/dist/rialto-session-server.js"),
      bundledSources: [join(dir, "server/src"), join(dir, "protocol/src"), join(dir, "lock")],
    },
  };
}

function build(path: string, at: Date): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, "// bundle");
  utimesSync(path, at, at);
}

describe("defaultSessionServerCommand", () => {
  const sourcesAt = new Date("2026-01-01T00:00:00Z");
  const later = new Date("2026-01-02T00:00:00Z");

  it("runs the sources with the current Bun when there is no build", () => {
    const { layout } = fakeLayout(sourcesAt);
    expect(defaultSessionServerCommand(layout)).toEqual([process.execPath, layout.main]);
  });

  it("runs the build when it is newer than every file it bundles", () => {
    const { layout } = fakeLayout(sourcesAt);
    build(layout.built, later);
    expect(defaultSessionServerCommand(layout)).toEqual([process.execPath, layout.built]);
  });

  it("falls back to the sources when a file was deleted from a bundled directory after the build", () => {
    const { layout, files } = fakeLayout(sourcesAt);
    build(layout.built, later);
    rmSync(files[0] as string);
    expect(defaultSessionServerCommand(layout)).toEqual([process.execPath, layout.main]);
  });

  it("falls back to the sources when any bundled file, however deep, changed after the build", () => {
    const { layout, files } = fakeLayout(sourcesAt);
    build(layout.built, later);
    for (const file of files) {
      utimesSync(file, new Date("2026-01-03T00:00:00Z"), new Date("2026-01-03T00:00:00Z"));
      expect(isBuildFresh(layout.built, layout.bundledSources)).toBe(false);
      utimesSync(file, sourcesAt, sourcesAt);
      expect(isBuildFresh(layout.built, layout.bundledSources)).toBe(true);
    }
  });

  it("bundles the session server's own workspace packages, no more and no fewer", () => {
    const manifest = JSON.parse(
      readFileSync(join(SESSION_SERVER_LAYOUT.main, "../../package.json"), "utf8"),
    ) as { dependencies: Record<string, string> };
    const workspaceDependencies = Object.entries(manifest.dependencies)
      .filter(([, version]) => version.startsWith("workspace:"))
      .map(([name]) => `packages/${name.replace("@rialto/", "")}/src`);
    const trees = SESSION_SERVER_LAYOUT.bundledSources
      .filter((path) => path.endsWith("/src"))
      .map((path) => path.slice(path.indexOf("packages/")));
    expect(trees.sort()).toEqual(["packages/session-server/src", ...workspaceDependencies].sort());
  });
});
