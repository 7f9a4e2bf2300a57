#!/usr/bin/env bun
/**
 * Exports every wire message as JSON Schema into `packages/protocol/schemas/<group>.json`
 * (deterministic: sorted keys, 2-space indentation, trailing newline), recording the
 * `PROTOCOL_VERSION` they were exported at.
 *
 * Usage (in packages/protocol):
 *   bun scripts/export-schemas.ts          write the files
 *   bun scripts/export-schemas.ts --check  write nothing; exit 1 if they are out of date
 *   ... --dir <path>                        use another directory than schemas/ (tests)
 *
 * Both refuse (exit 1) when the code changed a message incompatibly but the major version of
 * `PROTOCOL_VERSION` (src/version.ts) is still the one the committed files were exported at.
 */
import { join, resolve } from "node:path";
import { formatChanges } from "../src/messages/compatibility.ts";
import { buildSchemaDocuments } from "../src/messages/schema-export.ts";
import {
  EXPORT_COMMAND,
  planExport,
  readSchemaFiles,
  SCHEMAS_DIR,
} from "../src/messages/schema-files.ts";
import { PROTOCOL_VERSION } from "../src/version.ts";

const USAGE = "usage: bun scripts/export-schemas.ts [--check] [--dir <path>]";

async function main(args: string[]): Promise<number> {
  let checkOnly = false;
  let dir = SCHEMAS_DIR;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--check") checkOnly = true;
    else if (arg === "--dir" && args[i + 1] !== undefined) dir = resolve(args[++i] ?? "");
    else {
      console.error(`unknown argument ${JSON.stringify(arg)}; ${USAGE}`);
      return 2;
    }
  }

  const committed = await readSchemaFiles(dir);
  const plan = planExport(committed, buildSchemaDocuments(), PROTOCOL_VERSION);
  const { report } = plan;

  if (committed.size === 0) {
    console.log(`No committed schemas yet: first export (${plan.rendered.size} files).`);
  } else if (report.changes.length > 0) {
    console.log(`Schema changes since the committed export:\n${formatChanges(report.changes)}`);
  }
  if (report.violation) {
    console.error(
      `\n${report.incompatible.length} incompatible change(s), but PROTOCOL_VERSION ${PROTOCOL_VERSION} ` +
        `keeps major ${report.currentMajor} of the committed schemas. Make the change compatible ` +
        "(add instead of change; new fields optional) or raise the major in src/version.ts.",
    );
    return 1;
  }

  const pending = [...plan.outdated, ...plan.stale];
  if (checkOnly) {
    if (pending.length === 0) {
      console.log(`schemas/ is up to date (protocol ${PROTOCOL_VERSION}).`);
      return 0;
    }
    console.error(`schemas/ is out of date (${pending.join(", ")}): run \`${EXPORT_COMMAND}\`.`);
    return 1;
  }

  for (const name of plan.outdated) {
    const text = plan.rendered.get(name);
    if (text !== undefined) await Bun.write(join(dir, name), text);
  }
  for (const name of plan.stale) await Bun.file(join(dir, name)).delete();
  console.log(
    pending.length === 0
      ? `schemas/ already up to date (${plan.rendered.size} files, protocol ${PROTOCOL_VERSION}).`
      : `schemas/: wrote ${plan.outdated.length}, removed ${plan.stale.length} file(s) (protocol ${PROTOCOL_VERSION}).`,
  );
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
