import { parseVersion } from "../version.ts";
import { diffSchemas, type SchemaChange } from "./schema-diff.ts";
import type { ExportedMessage, SchemaDocument } from "./schema-export.ts";

/**
 * The protocol's compatibility rule over exported schema documents: removing a message or
 * changing it incompatibly (see `schema-diff.ts`) needs a new major `PROTOCOL_VERSION`; adding
 * a message or an optional field does not. Used by the export script (it refuses to overwrite)
 * and by the compatibility test.
 *
 * "Compatible" is judged from the receiver of the new schema. Because every object is closed,
 * an older receiver still rejects a field it does not know: a sender sets a new optional field
 * (or a new enum value) only when the peer's protocol version, exchanged in `session/register`
 * and `control/announce`, has it.
 */

/** Every message of several documents, keyed by wire name (documents may be regrouped freely). */
export function flattenDocuments(
  documents: Iterable<SchemaDocument>,
): Map<string, ExportedMessage> {
  const messages = new Map<string, ExportedMessage>();
  for (const document of documents) {
    for (const [name, message] of Object.entries(document.messages)) messages.set(name, message);
  }
  return messages;
}

/** Classifies every difference between two sets of messages, in wire-name order. */
export function diffMessages(
  before: ReadonlyMap<string, ExportedMessage>,
  after: ReadonlyMap<string, ExportedMessage>,
): SchemaChange[] {
  const changes: SchemaChange[] = [];
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  for (const name of names) {
    const old = before.get(name);
    const next = after.get(name);
    if (old === undefined) {
      changes.push({ path: name, compatible: true, description: `${next?.kind} added` });
    } else if (next === undefined) {
      changes.push({ path: name, compatible: false, description: `${old.kind} removed` });
    } else if (old.kind === "method" && next.kind === "method") {
      changes.push(...diffSchemas(old.params, next.params, `${name} params`));
      changes.push(...diffSchemas(old.result, next.result, `${name} result`));
    } else if (old.kind === "event" && next.kind === "event") {
      changes.push(...diffSchemas(old.payload, next.payload, `${name} payload`));
    } else {
      changes.push({
        path: name,
        compatible: false,
        description: `changed from ${old.kind} to ${next.kind}`,
      });
    }
  }
  return changes;
}

/** The outcome of comparing committed schema documents with the current ones. */
export interface CompatibilityReport {
  /** Every classified difference. */
  changes: SchemaChange[];
  /** The incompatible ones. */
  incompatible: SchemaChange[];
  /** Highest major recorded in the committed documents (undefined when there are none). */
  committedMajor: number | undefined;
  /** Major of the current `PROTOCOL_VERSION`. */
  currentMajor: number;
  /** True when incompatible changes exist but the major was not raised: the rule is broken. */
  violation: boolean;
}

/** Compares committed documents with the current ones under `currentVersion`. */
export function checkCompatibility(
  committed: Iterable<SchemaDocument>,
  current: Iterable<SchemaDocument>,
  currentVersion: string,
): CompatibilityReport {
  const committedDocuments = [...committed];
  const majors = committedDocuments.map((document) => parseVersion(document.protocolVersion).major);
  const committedMajor = majors.length === 0 ? undefined : Math.max(...majors);
  const currentMajor = parseVersion(currentVersion).major;
  const changes = diffMessages(flattenDocuments(committedDocuments), flattenDocuments(current));
  const incompatible = changes.filter((change) => !change.compatible);
  const violation =
    incompatible.length > 0 && committedMajor !== undefined && currentMajor <= committedMajor;
  return { changes, incompatible, committedMajor, currentMajor, violation };
}

/** One line per change, `INCOMPATIBLE`/`compatible`, path and description. */
export function formatChanges(changes: readonly SchemaChange[]): string {
  return changes
    .map(
      (change) =>
        `${change.compatible ? "compatible  " : "INCOMPATIBLE"} ${change.path}: ${change.description}`,
    )
    .join("\n");
}
