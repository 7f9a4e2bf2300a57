import { stat } from "node:fs/promises";
import { join } from "node:path";
import Type from "typebox";
import { Compile } from "typebox/compile";
import { type CompatibilityReport, checkCompatibility } from "./compatibility.ts";
import { type SchemaDocument, stableStringify } from "./schema-export.ts";

/**
 * Reading and writing the committed schema documents (`packages/protocol/schemas/*.json`).
 * Shared by the export script and the compatibility test so both see the same files.
 */

/** Absolute path of `packages/protocol/schemas/`. */
export const SCHEMAS_DIR = join(import.meta.dir, "..", "..", "schemas");

/** The command that regenerates the schema documents (run in `packages/protocol`). */
export const EXPORT_COMMAND = "bun scripts/export-schemas.ts";

// Only the envelope is checked: the message schemas inside are whatever was exported.
const DocumentShape = Compile(
  Type.Object({
    $comment: Type.String(),
    group: Type.String(),
    protocolVersion: Type.String(),
    messages: Type.Record(
      Type.String(),
      Type.Union([
        Type.Object({
          kind: Type.Literal("method"),
          params: Type.Unknown(),
          result: Type.Unknown(),
        }),
        Type.Object({ kind: Type.Literal("event"), payload: Type.Unknown() }),
      ]),
    ),
  }),
);

/** One committed file: its exact text and its parsed document. */
export interface SchemaFile {
  text: string;
  document: SchemaDocument;
}

/**
 * Reads every `*.json` in `dir` (file name → file, sorted by name); none when `dir` does not
 * exist yet. A file that is not a schema document throws, naming the file.
 */
export async function readSchemaFiles(dir: string = SCHEMAS_DIR): Promise<Map<string, SchemaFile>> {
  const files = new Map<string, SchemaFile>();
  const isDirectory = await stat(dir).then(
    (info) => info.isDirectory(),
    () => false,
  );
  if (!isDirectory) return files;
  const names = (await Array.fromAsync(new Bun.Glob("*.json").scan({ cwd: dir }))).sort();
  for (const name of names) {
    const text = await Bun.file(join(dir, name)).text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new Error(`${join(dir, name)} is not valid JSON: ${(error as Error).message}`);
    }
    if (!DocumentShape.Check(parsed)) {
      throw new Error(`${join(dir, name)} is not a schema document (re-run ${EXPORT_COMMAND})`);
    }
    files.set(name, { text, document: parsed as SchemaDocument });
  }
  return files;
}

/** What exporting would do, and whether it is allowed. */
export interface ExportPlan {
  /** File name → the text it must have. */
  rendered: Map<string, string>;
  /** Files that are missing or differ from {@link rendered}. */
  outdated: string[];
  /** Committed `*.json` files no group exports any more. */
  stale: string[];
  /** The compatibility verdict of the change. */
  report: CompatibilityReport;
}

/** Compares the committed files with the documents the current code exports. */
export function planExport(
  committed: ReadonlyMap<string, SchemaFile>,
  current: ReadonlyMap<string, SchemaDocument>,
  protocolVersion: string,
): ExportPlan {
  const rendered = new Map<string, string>();
  for (const [name, document] of current) rendered.set(name, stableStringify(document));
  const outdated = [...rendered].filter(([name, text]) => committed.get(name)?.text !== text);
  const stale = [...committed.keys()].filter((name) => !rendered.has(name));
  const report = checkCompatibility(
    [...committed.values()].map((file) => file.document),
    current.values(),
    protocolVersion,
  );
  return { rendered, outdated: outdated.map(([name]) => name), stale, report };
}
