import { describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { ShmError } from "../errors.ts";
import { cleanFileMappings, releaseCodePages } from "./code-pages.ts";

const CODE_PAGES_MODULE = new URL("./code-pages.ts", import.meta.url).pathname;

describe("cleanFileMappings", () => {
  it("finds the executable's code among the mappings the kernel lists in /proc/self/maps", () => {
    const maps = readFileSync("/proc/self/maps", "utf8").trim().split("\n");
    const clean = cleanFileMappings(readFileSync("/proc/self/smaps", "utf8"));
    const listed = new Map(
      maps.map((line) => {
        const [range, perms, , , , path] = line.split(/\s+/);
        return [range, { perms: perms ?? "", path: path ?? "" }];
      }),
    );
    expect(clean.some((m) => m.path === process.execPath)).toBe(true);
    for (const mapping of clean) {
      const range = `${mapping.start.toString(16).padStart(8, "0")}-${mapping.end.toString(16).padStart(8, "0")}`;
      const entry = listed.get(range);
      // Read a moment apart: a thread may have mapped or unmapped something in between.
      if (entry === undefined) continue;
      expect(entry.perms).toMatch(/^r-[-x][ps]$/);
      expect(entry.path).toBe(mapping.path.split(" ")[0] ?? "");
      expect(mapping.residentBytes).toBeGreaterThan(0);
    }
  });

  const smaps = (perms: string, path: string, rss: number, anonymous: number) =>
    [
      `7f0000001000-7f0000005000 ${perms} 00001000 08:01 1234   ${path}`,
      "Size:                 16 kB",
      "KernelPageSize:        4 kB",
      `Rss:                  ${rss} kB`,
      "Pss:                   4 kB",
      `Anonymous:             ${anonymous} kB`,
      "VmFlags: rd ex mr mw me sd",
      "",
    ].join("\n");

  it("takes read-only file mappings whose pages are the file's", () => {
    expect(cleanFileMappings(smaps("r-xp", "/usr/lib/libexample.so", 12, 0))).toEqual([
      {
        start: 0x7f0000001000n,
        end: 0x7f0000005000n,
        path: "/usr/lib/libexample.so",
        residentBytes: 12 * 1024,
      },
    ]);
    expect(cleanFileMappings(smaps("r--s", "/memfd:x (deleted)", 4, 0))).toHaveLength(1);
  });

  it("leaves writable, copied, anonymous and non-resident mappings", () => {
    expect(cleanFileMappings(smaps("rw-p", "/usr/lib/libexample.so", 12, 0))).toEqual([]);
    expect(cleanFileMappings(smaps("r--p", "/usr/lib/libexample.so", 12, 4))).toEqual([]);
    expect(cleanFileMappings(smaps("r--p", "", 12, 0))).toEqual([]);
    expect(cleanFileMappings(smaps("r-xp", "[vdso]", 12, 0))).toEqual([]);
    expect(cleanFileMappings(smaps("r-xp", "/usr/lib/libexample.so", 0, 0))).toEqual([]);
    expect(cleanFileMappings(smaps("---p", "/usr/lib/libexample.so", 12, 0))).toEqual([]);
  });
});

describe("releaseCodePages", () => {
  it("drops a process's resident code pages, and the process runs on", async () => {
    const script = `
      import { releaseCodePages } from ${JSON.stringify(CODE_PAGES_MODULE)};
      const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(require("node:fs").readFileSync("/proc/self/status", "utf8"))[1]) * 1024;
      const before = rss();
      const released = releaseCodePages();
      const after = rss();
      const work = JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ i, s: String(i).repeat(3) }))).length;
      console.log(JSON.stringify({ before, after, released, work }));
    `;
    const child = Bun.spawn({ cmd: [process.execPath, "-e", script], stdout: "pipe" });
    const [output, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    expect(code).toBe(0);
    const { before, after, released, work } = JSON.parse(output);
    expect(work).toBeGreaterThan(10_000);
    expect(released.mappings).toBeGreaterThan(0);
    // A bare Bun has more than 10 MiB of its executable resident after start-up.
    expect(released.bytes).toBeGreaterThan(10 * 2 ** 20);
    expect(before - after).toBeGreaterThan(5 * 2 ** 20);
  });

  it("skips a mapping madvise refuses and stops on anything else", () => {
    const smaps = [
      "1000-2000 r-xp 00000000 08:01 1 /a",
      "Rss:                   4 kB",
      "Anonymous:             0 kB",
      "3000-4000 r-xp 00000000 08:01 2 /b",
      "Rss:                   4 kB",
      "Anonymous:             0 kB",
      "5000-6000 rw-p 00000000 08:01 2 /b",
      "Rss:                   4 kB",
      "Anonymous:             4 kB",
    ].join("\n");
    const dropped: bigint[] = [];
    const refusing = {
      dropPages(address: bigint) {
        if (address === 0x1000n) throw new ShmError("ERRNO", "madvise: EINVAL");
        dropped.push(address);
      },
    };
    expect(releaseCodePages(smaps, refusing)).toEqual({ mappings: 1, bytes: 4096 });
    expect(dropped).toEqual([0x3000n]);
    const broken = {
      dropPages() {
        throw new TypeError("not a libc");
      },
    };
    expect(() => releaseCodePages(smaps, broken)).toThrow(TypeError);
  });
});
