import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { TestApp } from "./support/rialto-app.ts";
import { waitFor } from "./support/wait.ts";

// Real processes on a shared 2-core machine.
setDefaultTimeout(60_000);

/** How long the session server must stay asleep, ms (Bun's socket timer woke it every 1000 ms). */
const QUIET_MS = 3000;

/**
 * Times the main thread of `pid` went to sleep and was woken again (its voluntary context
 * switches): an event loop that waits in epoll with nothing due adds none.
 */
function mainThreadWakeups(pid: number): number {
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, "utf8");
  return Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(status)?.[1]);
}

/** A check for {@link waitFor}: true once `pid`'s main thread has not woken for `ms`. */
function quietFor(pid: number, ms: number): () => boolean {
  let last = mainThreadWakeups(pid);
  let since = performance.now();
  return () => {
    const now = mainThreadWakeups(pid);
    if (now !== last) {
      last = now;
      since = performance.now();
    }
    return performance.now() - since >= ms;
  };
}

describe("an idle session server sleeps (issue 15, fifty apps on one TV)", () => {
  it("an Inactive session server with no client is not woken while nobody sends it anything", async () => {
    // Given: one app Inactive, no client, the health check off (TestApp's default), so nothing
    // is sent to its session server.
    await using app = await TestApp.start({ state: "Inactive" });
    const pid = app.manager.listApplications().find((info) => info.appId === app.appId)?.pid;
    expect(pid).toBeNumber();

    // Then: once start-up is over its main thread stays asleep: no timer of ours and none of
    // Bun's (a connected Bun socket made Bun wake it every second; the control channel is not
    // one).
    await waitFor(
      `${QUIET_MS} ms without a wake-up of session server ${pid}`,
      quietFor(pid as number, QUIET_MS),
      20_000,
    );

    // And: it still answers its manager at once.
    await app.setState("Active");
    expect(app.manager.getState(app.appId)).toBe("Active");
  });
});
