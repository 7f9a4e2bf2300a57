import { afterEach, beforeEach } from "bun:test";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The directory of the running test, from {@link tempDirPerTest}. */
export interface TempDir {
  /** Path of the directory; valid only while a test runs. */
  readonly dir: string;
}

/**
 * Registers hooks in the calling scope (a file or a `describe`) that create a fresh directory
 * under the system temp dir before each test, named `prefix` plus a random suffix, and remove
 * it with its contents after each test. `mode` (default: mkdtemp's 0o700) is applied when given.
 */
export function tempDirPerTest(prefix: string, options: { readonly mode?: number } = {}): TempDir {
  let current: string | undefined;
  beforeEach(() => {
    current = mkdtempSync(join(tmpdir(), prefix));
    if (options.mode !== undefined) chmodSync(current, options.mode);
  });
  afterEach(() => {
    if (current !== undefined) rmSync(current, { recursive: true, force: true });
    current = undefined;
  });
  return {
    get dir(): string {
      if (current === undefined) throw new Error(`no temp dir "${prefix}*" outside a test`);
      return current;
    },
  };
}
