import { afterEach, describe, expect, it } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { defaultSessionServerCommand, sessionServerBuildStatus } from "./session-server-command.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const sourcesAt = new Date("2026-01-01T00:00:00Z");
const builtAt = new Date("2026-01-02T00:00:00Z");
const later = new Date("2026-01-03T00:00:00Z");

/** A fake workspace: sources, a dependency and a lockfile written at `sourcesAt`, no build yet. */
function fakeWorkspace() {
  const workspace = mkdtempSync(join(tmpdir(), "rialto-command-"));
  dirs.push(workspace);
  const inputs = [
    "server/src/media/engine.ts",
    "protocol/src/index.ts",
    "node_modules/dep/index.js",
  ];
  for (const file of [...inputs, "bun.lock", "server/src/media/engine.test.ts"]) {
    mkdirSync(join(workspace, file, ".."), { recursive: true });
    writeFileSync(join(workspace, file), "//");
    utimesSync(join(workspace, file), sourcesAt, sourcesAt);
  }
  const layout = {
    packageDir: join(workspace, "server"),
    main: join(workspace, "server/src/main.ts"),
    built: join(workspace, "server/dist/rialto-session-server.js"),
    inputs: join(workspace, "server/dist/rialto-session-server.inputs.json"),
  };
  const touch = (file: string, at = later) => utimesSync(join(workspace, file), at, at);
  /** What `bun run build` leaves: the bundle and the list of the files it read. */
  const build = (listed: readonly string[] = inputs) => {
    mkdirSync(join(layout.built, ".."), { recursive: true });
    // The build lists what it read relative to the session server's package.
    const relativeToPackage = listed.map((file) => relative("server", file));
    writeFileSync(layout.inputs, JSON.stringify({ inputs: relativeToPackage }));
    writeFileSync(layout.built, "// bundle");
    utimesSync(layout.built, builtAt, builtAt);
  };
  return { layout, inputs, touch, build };
}

describe("defaultSessionServerCommand", () => {
  it("runs the sources with the current Bun when there is no build, and says so", () => {
    const { layout } = fakeWorkspace();
    expect(defaultSessionServerCommand(layout)).toEqual([process.execPath, layout.main]);
    expect(sessionServerBuildStatus(layout)).toEqual({
      fresh: false,
      reason: `there is no build at ${layout.built}`,
    });
  });

  it("runs the build while no file it read changed", () => {
    const { layout, build } = fakeWorkspace();
    build();
    expect(sessionServerBuildStatus(layout)).toEqual({ fresh: true });
    expect(defaultSessionServerCommand(layout)).toEqual([process.execPath, layout.built]);
  });

  it("keeps the build when files it does not read change (bun.lock touched by bun install, a test)", () => {
    const { layout, build, touch } = fakeWorkspace();
    build();
    touch("bun.lock");
    touch("server/src/media/engine.test.ts");
    expect(sessionServerBuildStatus(layout)).toEqual({ fresh: true });
  });

  it("falls back to the sources when any file the build read, a dependency's included, changed after it", () => {
    const { layout, build, touch, inputs } = fakeWorkspace();
    build();
    for (const input of inputs) {
      touch(input);
      expect(sessionServerBuildStatus(layout)).toEqual({
        fresh: false,
        reason: `${relative("server", input)} changed after the build`,
      });
      expect(defaultSessionServerCommand(layout)).toEqual([process.execPath, layout.main]);
      touch(input, sourcesAt);
    }
  });

  it("falls back to the sources when a bundled file is gone, or the build has no input list", () => {
    const { layout, build } = fakeWorkspace();
    build([...fakeWorkspace().inputs, "server/src/gone.ts"]);
    expect(sessionServerBuildStatus(layout)).toEqual({
      fresh: false,
      reason: "src/gone.ts, which it bundles, is gone",
    });
    rmSync(layout.inputs);
    expect(sessionServerBuildStatus(layout).fresh).toBe(false);
  });
});
