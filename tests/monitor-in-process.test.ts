import { describe, expect, it, setDefaultTimeout } from "bun:test";
import type { MonitorMessage } from "@rialto/protocol";
import { createTestManager, FULL_LIFECYCLE_EVENTS } from "./support/lifecycle-manager.ts";

// Process tests start real session servers (about 0.5 s each on a 2-core machine).
setDefaultTimeout(30_000);

describe("monitors (in-process)", () => {
  it("gets the state list, the end marker, then every event of a full lifecycle in order", async () => {
    await using t = createTestManager();
    const { manager } = t;
    await t.givenApp("app1", "Active");
    // Step 1: a new monitor receives the snapshot before addMonitor returns.
    const messages: MonitorMessage[] = [];
    const monitor = manager.addMonitor((message) => messages.push(message));
    expect(messages).toEqual([
      { type: "client_state", appId: "app1", isStarted: true, state: "Active" },
      { type: "client_state_end", count: 1 },
    ]);
    // Step 2: then the events of app2 going NotRunning → Inactive → Active → Inactive → NotRunning.
    await t.givenApp("app2", "Inactive");
    await t.changeState("app2", "Active");
    await t.changeState("app2", "Inactive");
    await t.changeState("app2", "NotRunning");
    expect(messages.slice(2) as unknown[]).toEqual(
      FULL_LIFECYCLE_EVENTS.map((text) => {
        const [event, state] = text.split(":");
        return state === undefined
          ? { type: "client_event", appId: "app2", event }
          : { type: "client_event", appId: "app2", event, state };
      }),
    );
    // Step 3: reset() resends the list; close() stops the messages.
    messages.length = 0;
    monitor.reset();
    expect(messages).toEqual([
      { type: "client_state", appId: "app1", isStarted: true, state: "Active" },
      { type: "client_state_end", count: 1 },
    ]);
    monitor.close();
    expect(monitor.isOpen).toBe(false);
    await t.changeState("app1", "Inactive");
    expect(messages).toHaveLength(2);
    // The state_request event went to the other monitor only.
    expect(t.eventsOf("app1")).toContain("state_request:Inactive");
  });

  it("never tells a monitor about its own app", async () => {
    await using t = createTestManager();
    const { manager } = t;
    await Promise.all([t.givenApp("app1", "Inactive"), t.givenApp("app2", "Inactive")]);
    const messages: MonitorMessage[] = [];
    manager.addMonitor((message) => messages.push(message), { appId: "app1" });
    await manager.changeSessionServerState("app1", "Active");
    await manager.changeSessionServerState("app2", "Active");
    await t.waitForState("app2", "Active");
    expect(messages.some((message) => "appId" in message && message.appId === "app1")).toBe(false);
    expect(messages[0]).toEqual({
      type: "client_state",
      appId: "app2",
      isStarted: true,
      state: "Inactive",
    });
    expect(messages[1]).toEqual({ type: "client_state_end", count: 1 });
    expect(messages.at(-1)).toEqual({
      type: "client_event",
      appId: "app2",
      event: "state_changed",
      state: "Active",
    });
  });

  it("keeps delivering to other monitors when one callback throws", async () => {
    await using t = createTestManager();
    t.manager.addMonitor(() => {
      throw new Error("broken monitor");
    });
    await t.givenApp("app1", "Inactive");
    expect(t.eventsOf("app1")).toContain("state_changed:Inactive");
  });
});
