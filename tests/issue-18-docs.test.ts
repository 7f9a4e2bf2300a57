import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { MediaPipeline, RialtoClient, SourceFeeder } from "@rialto/client";
import {
  AppConfig,
  ERROR_CODES,
  PipelineEvents,
  PlaybackOptions,
  Resources,
} from "@rialto/protocol";
import { ServerManager } from "@rialto/server-manager";

// TypeDoc reads every package's types: about 20 s on a loaded 2-core machine.
setDefaultTimeout(120_000);

const ROOT = resolve(import.meta.dir, "..");
const doc = (name: string) => readFileSync(join(ROOT, "docs", name), "utf8");

/** Every Markdown file of the repository (its own, not dependencies'). */
function markdownFiles(): string[] {
  const listed = Bun.spawnSync(
    ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.md"],
    {
      cwd: ROOT,
    },
  );
  return listed.stdout
    .toString()
    .split("\n")
    .filter((path) => path !== "");
}

/** Public method names of a class (own and inherited), without the private and internal ones. */
function methodsOf(type: { prototype: object }, internal: readonly string[] = []): string[] {
  const names = new Set<string>();
  for (
    let proto = type.prototype;
    proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name !== "constructor" && !internal.includes(name)) names.add(name);
    }
  }
  return [...names];
}

describe("the docs are complete without anything outside the repository (issue 18)", () => {
  it("no README or docs page links outside the repository, and every relative link resolves", () => {
    const problems: string[] = [];
    for (const file of markdownFiles()) {
      const text = readFileSync(join(ROOT, file), "utf8");
      if (/\bSPEC \d/.test(text)) problems.push(`${file}: cites "SPEC n"`);
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (target === undefined || target.startsWith("#")) continue;
        if (/^[a-z]+:/i.test(target)) {
          problems.push(`${file}: links outside the repository: ${target}`);
          continue;
        }
        const path = resolve(ROOT, dirname(file), target.split("#")[0] ?? "");
        if (relative(ROOT, path).startsWith(".."))
          problems.push(`${file}: leaves the repository: ${target}`);
        else if (!existsSync(path)) problems.push(`${file}: broken link: ${target}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("documents every config key, event, error code and public method", () => {
    const configuration = doc("configuration.md");
    const keys = [
      ...Object.keys(AppConfig.properties).filter((k) => k !== "resources" && k !== "playback"),
      ...Object.keys(Resources.properties).map((k) => `resources.${k}`),
      ...Object.keys(PlaybackOptions.properties).map((k) => `playback.${k}`),
    ];
    expect(keys.filter((key) => !configuration.includes(`\`${key}\``))).toEqual([]);

    const pipelines = doc("pipelines.md");
    const events = [...Object.keys(PipelineEvents), "released"];
    expect(events.filter((event) => !pipelines.includes(`| \`${event}\` |`))).toEqual([]);
    const internal = ["receive", "markReleased", "call", "playbackEnded", "sourceSwitched"];
    const methods = [...methodsOf(MediaPipeline, internal), ...methodsOf(RialtoClient)];
    expect(methods.filter((name) => !pipelines.includes(name))).toEqual([]);
    const feeder = methodsOf(SourceFeeder, ["requested", "seeking", "flushing", "ended"]);
    expect(feeder.filter((name) => !pipelines.includes(name))).toEqual([]);

    const lifecycle = doc("lifecycle.md") + doc("configuration.md");
    const manager = ["initiateApplication", "changeSessionServerState", "waitForState", "getState"];
    expect(manager.filter((name) => !lifecycle.includes(name))).toEqual([]);
    expect(methodsOf(ServerManager).length).toBeGreaterThan(manager.length);

    const errors = doc("errors.md");
    expect(ERROR_CODES.filter((code) => !errors.includes(`| \`${code}\` |`))).toEqual([]);
  });

  it("generates the API reference from the TSDoc with TypeDoc (`bun run docs`)", async () => {
    const out = mkdtempSync("/tmp/rialto-typedoc-");
    try {
      const typedoc = Bun.spawn(
        [
          process.execPath,
          "node_modules/.bin/typedoc",
          "--out",
          join(out, "html"),
          "--json",
          join(out, "api.json"),
        ],
        { cwd: join(ROOT, "docs"), stdout: "pipe", stderr: "pipe" },
      );
      const [out1, out2, exitCode] = await Promise.all([
        new Response(typedoc.stdout).text(),
        new Response(typedoc.stderr).text(),
        typedoc.exited,
      ]);
      const log = out1 + out2;
      expect({ exitCode, errors: log.match(/Found (\d+) errors/)?.[1] }).toEqual({
        exitCode: 0,
        errors: "0",
      });
      expect(existsSync(join(out, "html", "index.html"))).toBe(true);
      const api = readFileSync(join(out, "api.json"), "utf8");
      for (const name of ["waitForState", "createSourceFeeder", "SourceFeeder", "connectRetryMs"]) {
        expect(api).toContain(`"name": "${name}"`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
