// TypeBox ahead of time, for the session server's bundle. Loading code is most of a session
// server's start (Bun reads and links about 10 ms of bytecode per 100 KB of bundle here), and
// TypeBox was half of the bundle plus 15 ms of ~370 builder calls as the bundle loads.
// Instead:
// 1. a first build resolves `typebox` to TypeBox wrapped so that every builder call
//    (`Type.Object(...)`) records its result; loading that bundle records the calls in the
//    order the shipped bundle makes them (the same modules, evaluated in the same order);
// 2. the shipped bundle resolves `typebox` to a module that answers each builder call with its
//    recorded result, written as literal source (`value-source.ts`), and registers checks
//    compiled ahead of time (TypeBox's `Code`) for the messages a session server checks on its
//    way to Inactive and while idle: the RPC envelopes and the control channel;
// 3. TypeBox's checker and compiler go to a bundle of their own (`LAZY_BUNDLES`), loaded on
//    first use: a failed check (for its error message) or a client's message; pino to another,
//    loaded with the first log line that passes the level.
// A builder call out of step with the recording (a stale build) is answered by TypeBox itself
// from then on: slower, never wrong. The global `Symbol.for(REPLAY_STATUS_KEY)` says how it went.
import { dirname } from "node:path";
import {
  ControlChannelEvents,
  ControlChannelMethods,
  Envelopes,
  type PrecompiledCheck,
  schemaKey,
} from "@rialto/protocol";
import type { BunPlugin } from "bun";
import { valueSource } from "./value-source.ts";

/**
 * The bundles of packages the session server loads on first use, beside its own: file name →
 * the specifiers (as the sources require them) it holds. Two, because pino comes with the first
 * log line that passes the level (at `info`, during start-up) and TypeBox only with a client.
 */
export const LAZY_BUNDLES: Readonly<Record<string, readonly string[]>> = {
  "rialto-session-server-typebox.js": ["typebox", "typebox/value", "typebox/compile"],
  "rialto-session-server-pino.js": ["pino"],
};

/** Where the replaying module reports what it replayed (a global, by name). */
export const REPLAY_STATUS_KEY = "rialto.session-server.typebox-replay";

/** What the replaying module reports under {@link REPLAY_STATUS_KEY}. */
export interface ReplayStatus {
  /** Builder calls recorded at build time. */
  recorded: number;
  /** Calls answered from the recording. */
  replayed: number;
  /** Calls TypeBox itself answered (out of step with the recording, or after it). */
  live: number;
}

/** One recorded builder call. */
export interface RecordedCall {
  readonly name: string;
  readonly result: unknown;
}

const CALLS_KEY = "rialto.build.typebox-calls";
const PROTOCOL_DIR = dirname(Bun.resolveSync("@rialto/protocol/package.json", import.meta.dir));
// TypeBox as @rialto/protocol has it: the checks compiled here must be that version's.
const TYPEBOX = Bun.resolveSync("typebox", PROTOCOL_DIR);
const TYPEBOX_GUARD = Bun.resolveSync("typebox/guard", PROTOCOL_DIR);
const TYPEBOX_COMPILE = Bun.resolveSync("typebox/compile", PROTOCOL_DIR);
const PRECOMPILED_CHECKS = Bun.resolveSync("./src/rpc/precompiled-checks.ts", PROTOCOL_DIR);
/** The specifier the replaying module requires TypeBox itself by. */
const LIVE_TYPEBOX = "rialto-lazy:typebox";

/** Pass 1: `typebox` is TypeBox, each builder call's result recorded in a global list. */
export function recordingPlugin(): BunPlugin {
  const source = `
import * as typebox from ${JSON.stringify(TYPEBOX)};
const calls = (globalThis[Symbol.for(${JSON.stringify(CALLS_KEY)})] ??= []);
export default new Proxy(typebox.default, {
  get(target, name) {
    const member = target[name];
    if (typeof member !== "function") throw new Error("only TypeBox's builder calls can be recorded, not Type." + String(name));
    return (...args) => {
      const result = member.apply(target, args);
      calls.push({ name, result });
      return result;
    };
  },
});`;
  return {
    name: "rialto-typebox-recording",
    setup(build) {
      build.onResolve({ filter: /^typebox$/ }, () => ({ path: "typebox", namespace: "recording" }));
      build.onLoad({ filter: /.*/, namespace: "recording" }, () => ({
        contents: source,
        loader: "js",
      }));
    },
  };
}

/**
 * What a session server checks on its way to Inactive and while idle, which the shipped bundle
 * checks with validators compiled ahead of time: the RPC envelopes and the control channel.
 */
export function controlPathSchemas(): object[] {
  return [
    ...Object.values(Envelopes),
    ...Object.values(ControlChannelMethods).flatMap((method) => [method.params, method.result]),
    ...Object.values(ControlChannelEvents).map((event) => event.payload),
  ].map((validator) => validator.schema);
}

/** Loads the recording bundle (its modules only: it is not the main module) and returns its calls. */
export function recordCalls(bundle: string): RecordedCall[] {
  const key = Symbol.for(CALLS_KEY);
  const global = globalThis as Record<symbol, RecordedCall[] | undefined>;
  global[key] = [];
  require(bundle);
  const calls = global[key];
  delete global[key];
  if (calls === undefined || calls.length === 0)
    throw new Error("the bundle made no TypeBox calls");
  return calls;
}

/**
 * Pass 2: `typebox` answers the recorded calls; the other packages of {@link LAZY_BUNDLES} come
 * from their bundle when first required.
 */
export function aheadOfTimePlugin(
  calls: readonly RecordedCall[],
  precompiled: readonly object[],
): BunPlugin {
  const replay = replaySource(calls, precompiled);
  const bundleOf = new Map(
    Object.entries(LAZY_BUNDLES).flatMap(([file, names]) => names.map((name) => [name, file])),
  );
  const specifiers = [...bundleOf.keys(), LIVE_TYPEBOX].map((name) => name.replace("/", "\\/"));
  return {
    name: "rialto-typebox-ahead-of-time",
    setup(build) {
      // Paths of their own: Bun tells modules apart by path, whatever their namespace.
      build.onResolve({ filter: new RegExp(`^(${specifiers.join("|")})$`) }, (args) =>
        args.path === "typebox"
          ? { path: "typebox-replay", namespace: "replay" }
          : { path: `lazy-${args.path.replace(LIVE_TYPEBOX, "typebox")}`, namespace: "lazy" },
      );
      build.onLoad({ filter: /.*/, namespace: "replay" }, () => ({
        contents: replay,
        loader: "js",
      }));
      build.onLoad({ filter: /.*/, namespace: "lazy" }, (args) => {
        const name = args.path.replace(/^lazy-/, "");
        return {
          contents: `module.exports = require("./${bundleOf.get(name)}").packages[${JSON.stringify(name)}];`,
          loader: "js",
        };
      });
    },
  };
}

/** The entry of the lazy bundle `file`: its packages by specifier, as `packages`. */
export function lazyBundleEntry(file: string): string {
  const names = LAZY_BUNDLES[file] ?? [];
  const imports = names.map((name, index) => {
    // TypeBox as @rialto/protocol depends on it, pino as the session server does.
    const from = name === "pino" ? import.meta.dir : PROTOCOL_DIR;
    return `import * as p${index} from ${JSON.stringify(Bun.resolveSync(name, from))};`;
  });
  // pino is CommonJS: the sources' `require("pino")` gets its function, not a namespace.
  const entries = names.map(
    (name, index) =>
      `${JSON.stringify(name)}: ${name === "pino" ? `p${index}.default` : `p${index}`}`,
  );
  return `${imports.join("\n")}\nexport const packages = { ${entries.join(", ")} };\n`;
}

/** The module that stands for `typebox` in the shipped bundle. */
function replaySource(calls: readonly RecordedCall[], precompiled: readonly object[]): string {
  const results = valueSource(calls.map((call) => call.result));
  const checks = precompiled.map((schema) => precompiledCheckSource(schema));
  return `
import { registerPrecompiledChecks } from ${JSON.stringify(PRECOMPILED_CHECKS)};
import { Guard } from ${JSON.stringify(TYPEBOX_GUARD)};
${results.declarations}
const NAMES = ${JSON.stringify(calls.map((call) => call.name))};
const RESULTS = [${results.expressions.join(",\n")}];
registerPrecompiledChecks([
${checks.join(",\n")}
]);
const status = { recorded: NAMES.length, replayed: 0, live: 0 };
globalThis[Symbol.for(${JSON.stringify(REPLAY_STATUS_KEY)})] = status;
let next = 0;
let live;
function call(name, args) {
  if (next < NAMES.length && NAMES[next] === name) {
    const result = RESULTS[next];
    RESULTS[next++] = undefined;
    status.replayed++;
    return result;
  }
  next = NAMES.length;
  status.live++;
  live ??= require(${JSON.stringify(LIVE_TYPEBOX)}).default;
  return live[name](...args);
}
export default new Proxy({}, { get: (_, name) => (...args) => call(name, args) });
`;
}

/**
 * `[key, check]` source for one schema: TypeBox's `Code` (a standalone ESM module) made a
 * function expression. Fails the build on anything the rewrite does not know, such as a new
 * import in a newer TypeBox.
 */
function precompiledCheckSource(schema: object): string {
  const { Code } = require(TYPEBOX_COMPILE) as {
    Code(schema: object): { Code: string; External: { identifier: string; variables: unknown[] } };
  };
  const { Code: code, External: external } = Code(schema);
  const variables = external.variables.map((variable) => {
    if (!(variable instanceof RegExp))
      throw new Error(`precompiled check: external ${String(variable)}`);
    return `new RegExp(${JSON.stringify(variable.source)}, ${JSON.stringify(variable.flags)})`;
  });
  const lines = code.split("\n").flatMap((line) => {
    if (line.startsWith("import ")) {
      if (!/^import \{ (Guard|Hashing) \} from "typebox\/(guard|system)"$/.test(line)) {
        throw new Error(`precompiled check: unexpected ${line}`);
      }
      return [];
    }
    if (line === `let ${external.identifier} = []`) {
      return [`let ${external.identifier} = [${variables.join(", ")}];`];
    }
    if (line.startsWith("export function SetExternal(")) return [];
    if (line.startsWith("export function Check(")) return [line.replace(/^export /, "return ")];
    if (line.startsWith("export ")) throw new Error(`precompiled check: unexpected ${line}`);
    return [line];
  });
  const body = lines.join("\n");
  if (/\bHashing\./.test(body)) throw new Error("precompiled check: uses Hashing");
  return `[${JSON.stringify(schemaKey(schema))}, (() => {\n${body}\n})()]`;
}

/** A check as the replaying module builds it, for tests: evaluates {@link precompiledCheckSource}. */
export function precompiledCheckForTest(schema: object): PrecompiledCheck {
  const { Guard } = require(TYPEBOX_GUARD) as { Guard: unknown };
  const [, check] = new Function("Guard", `return ${precompiledCheckSource(schema)};`)(Guard) as [
    string,
    PrecompiledCheck,
  ];
  return check;
}
