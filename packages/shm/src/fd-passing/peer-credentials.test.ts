import { afterEach, describe, expect, it } from "bun:test";
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ShmError } from "../errors.ts";
import { socketPeerCredentials } from "./peer-credentials.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("socketPeerCredentials", () => {
  it("names the process at the other end of a Bun Unix socket", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rialto-peercred-"));
    dirs.push(dir);
    const accepted = Promise.withResolvers<number>();
    using listener = Bun.listen({
      unix: join(dir, "s.sock"),
      socket: {
        open: (socket) => accepted.resolve((socket as unknown as { fd: number }).fd),
        data() {},
      },
    });
    const client = await Bun.connect({ unix: listener.unix, socket: { data() {} } });
    try {
      const credentials = socketPeerCredentials(await accepted.promise);
      expect(credentials).toEqual({
        pid: process.pid,
        uid: process.getuid?.() ?? -1,
        gid: process.getgid?.() ?? -1,
      });
    } finally {
      client.end();
    }
  });

  it("throws a ShmError naming the errno for an fd that is not a socket", () => {
    const fd = openSync("/dev/null", "r");
    try {
      expect(() => socketPeerCredentials(fd)).toThrow(ShmError);
      expect(() => socketPeerCredentials(fd)).toThrow(/ENOTSOCK/);
    } finally {
      closeSync(fd);
    }
  });
});
