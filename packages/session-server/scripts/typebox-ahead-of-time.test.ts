import { afterAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { compileValidator } from "@rialto/protocol";
import fc from "fast-check";
import {
  aheadOfTimePlugin,
  controlPathSchemas,
  LAZY_BUNDLES,
  lazyBundleEntry,
  precompiledCheckForTest,
  REPLAY_STATUS_KEY,
  type RecordedCall,
} from "./typebox-ahead-of-time.ts";

// TypeBox as @rialto/protocol has it: the oracle the checks compiled ahead of time must match.
const PROTOCOL_DIR = dirname(Bun.resolveSync("@rialto/protocol/package.json", import.meta.dir));
const typebox = require(Bun.resolveSync("typebox", PROTOCOL_DIR)).default as {
  Integer(options: object): object;
  String(): object;
  Object(properties: object): object;
};
const { Check, Create } = require(Bun.resolveSync("typebox/value", PROTOCOL_DIR)) as {
  Check(schema: object, value: unknown): boolean;
  Create(schema: object): unknown;
};

const dir = mkdtempSync(join(tmpdir(), "rialto-typebox-aot-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Valid messages TypeBox's `Create` cannot make (it needs a default for a string with a
 * pattern): SetConfiguration and the joined-mode announce.
 */
const SAMPLES: unknown[] = [
  {
    appId: "YouTube",
    socketPath: "/run/user/1000/rialto/youtube.sock",
    socketPermissions: 0o660,
    targetState: "Active",
    resources: { maxPlaybackSessions: 2, supportsWebAudio: true, maxWebAudioPlayers: 1 },
    logLevel: "info",
    playback: { clock: "freerun", sink: "checksum", engine: "virtual" },
    clientGracePeriodMs: 30_000,
  },
  { appId: "YouTube", pid: 4242, protocolVersion: "1.0.0" },
];

/** Valid values of `schema`: TypeBox's own when it can make one, else the matching samples. */
function validValues(schema: object): unknown[] {
  try {
    return [Create(schema)];
  } catch {
    return SAMPLES.filter((sample) => Check(schema, sample));
  }
}

/** A valid value of `schema`, the same with one field replaced or one added, anything. */
function candidates(valid: unknown): fc.Arbitrary<unknown> {
  if (typeof valid !== "object" || valid === null || Array.isArray(valid)) {
    return fc.oneof(fc.constant(valid), fc.anything());
  }
  const keys = Object.keys(valid);
  const changed = fc
    .tuple(fc.oneof(fc.constantFrom(...keys, "extra"), fc.string()), fc.anything())
    .map(([key, value]) => ({ ...valid, [key]: value }));
  return fc.oneof(fc.constant(valid), changed, fc.anything());
}

describe("checks compiled ahead of time", () => {
  it("give TypeBox's verdict on every envelope and control-channel message", () => {
    const schemas = controlPathSchemas();
    expect(schemas.length).toBeGreaterThan(10);
    for (const schema of schemas) {
      const valid = validValues(schema);
      // Each schema starts from a value it accepts, so both verdicts are exercised.
      expect(valid.length).toBeGreaterThan(0);
      const check = precompiledCheckForTest(schema);
      fc.assert(
        fc.property(candidates(valid[0]), (value) => {
          expect(check(value)).toBe(Check(schema, value));
        }),
        { numRuns: 200 },
      );
      expect(valid.map(check)).toEqual(valid.map(() => true));
    }
  });

  it("agree with the sources' validators, interpreted and then compiled", () => {
    for (const schema of controlPathSchemas()) {
      const check = precompiledCheckForTest(schema);
      const validator = compileValidator(schema as Parameters<typeof compileValidator>[0]);
      const [valid] = validValues(schema);
      for (let round = 0; round < 4; round++) {
        expect(check(valid)).toBe(validator.check(valid));
        expect(check({ unexpected: round })).toBe(validator.check({ unexpected: round }));
      }
    }
  });
});

/**
 * Builds `source` (which imports `typebox`) with the ahead-of-time plugin and `calls` as the
 * recording, beside the TypeBox bundle, runs it and returns what it printed.
 */
async function runReplaying(name: string, source: string, calls: RecordedCall[]) {
  const entry = join(dir, `${name}.js`);
  writeFileSync(entry, source);
  const [typeboxBundle] = Object.keys(LAZY_BUNDLES);
  const lazyEntry = join(dir, `entry-${typeboxBundle}`);
  writeFileSync(lazyEntry, lazyBundleEntry(typeboxBundle as string));
  const outdir = join(dir, `out-${name}`);
  const builds = await Promise.all([
    Bun.build({
      entrypoints: [entry],
      outdir,
      target: "bun",
      format: "cjs",
      plugins: [aheadOfTimePlugin(calls, [])],
      external: [`*/${typeboxBundle}`],
    }),
    Bun.build({
      entrypoints: [lazyEntry],
      outdir,
      target: "bun",
      format: "cjs",
      naming: typeboxBundle,
    }),
  ]);
  expect(builds.map((build) => build.success)).toEqual([true, true]);
  const run = Bun.spawnSync([process.execPath, join(outdir, `${name}.js`)], { stderr: "pipe" });
  expect(run.stderr.toString()).toBe("");
  return JSON.parse(run.stdout.toString()) as { built: unknown[]; status: unknown };
}

const FIXTURE = `
import Type from "typebox";
const count = Type.Integer({ minimum: 1 });
const built = [count, Type.Object({ count, name: Type.String() })];
console.log(JSON.stringify({ built, status: globalThis[Symbol.for(${JSON.stringify(REPLAY_STATUS_KEY)})] }));
`;

describe("the replaying typebox module", () => {
  const count = typebox.Integer({ minimum: 1 });
  const name = typebox.String();
  const expected = [count, typebox.Object({ count, name })];

  it("answers builder calls with the recorded results", async () => {
    const calls = [
      { name: "Integer", result: count },
      { name: "String", result: name },
      { name: "Object", result: expected[1] },
    ];
    const { built, status } = await runReplaying("in-step", FIXTURE, calls);
    expect(built).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(status).toEqual({ recorded: 3, replayed: 3, live: 0 });
  });

  it("hands calls out of step with the recording to TypeBox itself, loaded from its bundle", async () => {
    const calls = [
      { name: "Integer", result: count },
      // A stale recording: the module now calls String here.
      { name: "Boolean", result: { type: "boolean" } },
    ];
    const { built, status } = await runReplaying("out-of-step", FIXTURE, calls);
    expect(built).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(status).toEqual({ recorded: 2, replayed: 1, live: 2 });
  });
});
