import type * as NodeFs from "node:fs";
import { ShmError } from "../errors.ts";
import { type Libc, libc } from "../libc.ts";

/** A clean file mapping of a process: its pages are its file's (see {@link cleanFileMappings}). */
export interface CleanFileMapping {
  readonly start: bigint;
  readonly end: bigint;
  /** The mapped file. */
  readonly path: string;
  /** Bytes of it resident now. */
  readonly residentBytes: number;
}

/** What {@link releaseCodePages} gave back. */
export interface ReleasedCodePages {
  /** Mappings released. */
  readonly mappings: number;
  /** Bytes that were resident in them. */
  readonly bytes: number;
}

/**
 * One mapping of `/proc/<pid>/smaps` that cannot have been written: a file's, readable and not
 * writable, with its Rss and its Anonymous (pages copied since it was mapped: RELRO data, say)
 * captured. One regular expression over the whole text, not a loop over its thousands of
 * lines: code run this rarely must not wake the JIT, whose compiler's own pages would fault
 * back in right after the release.
 */
const CANDIDATE =
  /^([0-9a-f]+)-([0-9a-f]+) r-[-x][ps] \S+ \S+ \S+ +(\/[^\n]*)\n(?:(?!Rss:)[^\n]*\n)*Rss: +(\d+) kB\n(?:(?!Anonymous:)[^\n]*\n)*Anonymous: +(\d+) kB$/gm;

/**
 * The mappings of `smaps` (the text of `/proc/<pid>/smaps`) whose pages all equal their file's
 * and of which some are resident: file-backed, not writable, none of their pages copied.
 * Dropping such pages loses nothing: the next touch maps them again from the page cache (a minor
 * fault, no I/O while other processes keep them cached).
 */
export function cleanFileMappings(smaps: string): CleanFileMapping[] {
  const found: CleanFileMapping[] = [];
  for (const [, start, end, path, rss, anonymous] of smaps.matchAll(CANDIDATE)) {
    if (anonymous !== "0" || rss === "0") continue;
    found.push({
      start: BigInt(`0x${start}`),
      end: BigInt(`0x${end}`),
      path: path ?? "",
      residentBytes: Number(rss) * 1024,
    });
  }
  return found;
}

/**
 * Gives back this process's resident pages of clean file mappings (its executable's code and
 * read-only data, its libraries'), the way a TV's or phone's system compacts a cached app: for
 * a process that has gone idle after running code it will not run again soon (start-up, a
 * playback). Resident memory drops by what start-up touched; the pages stay in the page cache
 * for every other process that maps them, and those this process runs again fault back in.
 * A mapping madvise refuses (locked, say) is left as it is.
 */
export function releaseCodePages(
  smaps = (require("node:fs") as typeof NodeFs).readFileSync("/proc/self/smaps", "utf8"),
  native: Pick<Libc, "dropPages"> = libc,
): ReleasedCodePages {
  let mappings = 0;
  let bytes = 0;
  // A file mapping goes away only through dlclose, which a Bun process does on its JavaScript
  // thread: no range read above can have been unmapped and reused before its madvise.
  for (const mapping of cleanFileMappings(smaps)) {
    try {
      native.dropPages(mapping.start, mapping.end - mapping.start);
    } catch (error) {
      if (error instanceof ShmError) continue;
      throw error;
    }
    mappings += 1;
    bytes += mapping.residentBytes;
  }
  return { mappings, bytes };
}
