import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { within } from "../test-support/deadline.ts";
import { AS_NOBODY, canSwitchUser } from "../test-support/os-probes.ts";
import { stageForOtherUser } from "../test-support/other-user.ts";
import { tempDirPerTest } from "../test-support/temp-dir.ts";
import { connectSideChannel, SideChannelAcceptor } from "./side-channel-handshake.ts";

describe("side-channel acceptor: caps per peer uid", () => {
  // Searchable by others: the flooding peer runs as another user.
  const temp = tempDirPerTest("shm-peruid-", { mode: 0o755 });

  it.skipIf(!canSwitchUser)(
    "keeps this user's connections when another user floods the acceptor with valid tokens",
    async () => {
      const sidePath = join(temp.dir, "app.sock.fd");
      using acceptor = SideChannelAcceptor.listen(sidePath, {
        mode: 0o666,
        maxPendingPerUid: 4,
        maxPending: 8,
      });
      // Given three clients of this user, connected first (the oldest, so a cap over all
      // users would close them first).
      const ours = [1, 2, 3].map(() => connectSideChannel(sidePath));
      acceptor.sweep();
      // When a process of another user connects 20 times, each with a valid token.
      const entry = new URL("../test-support/flooding-peer.ts", import.meta.url).pathname;
      const { bun, script } = await stageForOtherUser(entry, temp.dir);
      const flooder = Bun.spawn({
        cmd: [...AS_NOBODY, bun, script, sidePath, "20"],
        stdio: ["pipe", "pipe", "inherit"],
        env: { ...process.env, HOME: "/tmp" },
      });
      try {
        const reader = flooder.stdout.getReader();
        const first = await within(reader.read(), "the flooder's ready line", 10_000);
        expect(new TextDecoder().decode(first.value)).toContain("ready 20");
        acceptor.sweep();
        // Then the other user keeps only its own cap, and every one of ours is still there.
        expect(acceptor.pendingCount).toBe(3 + 4);
        expect(acceptor.droppedCount).toBe(16);
        for (const { channel, token } of ours) {
          const claimed = acceptor.claim(token);
          expect(claimed).toBeDefined();
          claimed?.close();
          channel.close();
        }
      } finally {
        flooder.stdin.end();
        flooder.kill();
        await flooder.exited;
      }
    },
  );
});
