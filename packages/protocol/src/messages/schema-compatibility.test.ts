import { afterEach, describe, expect, it, setDefaultTimeout } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROTOCOL_VERSION } from "../version.ts";
import { formatChanges } from "./compatibility.ts";
import { buildSchemaDocuments, stableStringify } from "./schema-export.ts";
import { EXPORT_COMMAND, planExport, readSchemaFiles } from "./schema-files.ts";

const PACKAGE_DIR = join(import.meta.dir, "..", "..");
const SCRIPT = join(PACKAGE_DIR, "scripts", "export-schemas.ts");

describe("the committed JSON Schemas (packages/protocol/schemas)", async () => {
  const committed = await readSchemaFiles();
  const plan = planExport(committed, buildSchemaDocuments(), PROTOCOL_VERSION);

  it("change no message incompatibly unless the major of PROTOCOL_VERSION was raised", () => {
    if (plan.report.violation) {
      throw new Error(
        `${plan.report.incompatible.length} incompatible schema change(s) under protocol major ` +
          `${plan.report.currentMajor}:\n${formatChanges(plan.report.incompatible)}\n` +
          "Make the change compatible (add a method or an optional field instead) or raise the " +
          `major in src/version.ts, then run \`${EXPORT_COMMAND}\` in packages/protocol.`,
      );
    }
  });

  it("are exactly what the current code exports", () => {
    expect(committed.size, `no committed schemas: run \`${EXPORT_COMMAND}\``).toBeGreaterThan(0);
    const pending = [...plan.outdated, ...plan.stale];
    if (pending.length > 0) {
      throw new Error(
        `schemas/ is out of date (${pending.join(", ")}): run \`${EXPORT_COMMAND}\` in ` +
          `packages/protocol and commit the result.\n${formatChanges(plan.report.changes)}`,
      );
    }
  });

  it("were exported at the current protocol version", () => {
    for (const { document } of committed.values()) {
      expect(document.protocolVersion).toBe(PROTOCOL_VERSION);
    }
  });
});

async function runScript(...args: string[]) {
  const child = Bun.spawn([process.execPath, SCRIPT, ...args], {
    cwd: PACKAGE_DIR,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { stdout, stderr, exitCode };
}

// These spawn the export script (a Bun start and every schema built), several times per test:
// bun's 5 s default is too tight on a loaded 2-core machine.
setDefaultTimeout(30_000);

describe("scripts/export-schemas.ts", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("exports into an empty directory, then finds it up to date with --check", async () => {
    dir = await mkdtemp(join(tmpdir(), "rialto-schemas-"));
    const first = await runScript("--dir", dir);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain("first export");
    const files = await readSchemaFiles(dir);
    expect([...files.keys()]).toEqual([...buildSchemaDocuments().keys()].sort());
    const check = await runScript("--check", "--dir", dir);
    expect(check.stderr).toBe("");
    expect(check.exitCode).toBe(0);
  });

  it("refuses to overwrite schemas the code changed incompatibly under the same major", async () => {
    dir = await mkdtemp(join(tmpdir(), "rialto-schemas-"));
    // The committed export had a method and a field the current code no longer has.
    const documents = buildSchemaDocuments();
    const pipeline = documents.get("media-pipeline.json");
    if (pipeline === undefined) throw new Error("no media-pipeline.json exported");
    pipeline.messages["pipeline/legacy"] = { kind: "event", payload: { type: "object" } };
    const play = pipeline.messages["pipeline/play"];
    if (play?.kind !== "method" || typeof play.params !== "object")
      throw new Error("no pipeline/play");
    const properties = play.params.properties as Record<string, unknown>;
    properties.speed = { type: "number", minimum: 0, maximum: 2 };
    const committedTexts = new Map<string, string>();
    for (const [name, document] of documents) {
      committedTexts.set(name, stableStringify(document));
      await Bun.write(join(dir, name), stableStringify(document));
    }

    for (const args of [
      ["--dir", dir],
      ["--check", "--dir", dir],
    ]) {
      const run = await runScript(...args);
      expect(run.exitCode).toBe(1);
      expect(run.stdout).toContain("INCOMPATIBLE pipeline/legacy: event removed");
      expect(run.stdout).toContain(
        'INCOMPATIBLE pipeline/play params.speed: field "speed" removed',
      );
      expect(run.stderr).toContain("raise the major");
    }
    for (const [name, text] of committedTexts) {
      expect(await Bun.file(join(dir, name)).text()).toBe(text);
    }
  });

  it("reports out-of-date schemas with --check and rewrites them without it", async () => {
    dir = await mkdtemp(join(tmpdir(), "rialto-schemas-"));
    for (const [name, document] of buildSchemaDocuments()) {
      await Bun.write(join(dir, name), JSON.stringify(document));
    }
    await Bun.write(
      join(dir, "renamed-away.json"),
      stableStringify({ ...buildSchemaDocuments().get("session.json"), messages: {} }),
    );
    const check = await runScript("--check", "--dir", dir);
    expect(check.exitCode).toBe(1);
    expect(check.stderr).toContain("out of date");
    expect(check.stderr).toContain("renamed-away.json");
    const write = await runScript("--dir", dir);
    expect(write.exitCode).toBe(0);
    expect((await runScript("--check", "--dir", dir)).exitCode).toBe(0);
    expect(await Bun.file(join(dir, "renamed-away.json")).exists()).toBe(false);
  });
});
