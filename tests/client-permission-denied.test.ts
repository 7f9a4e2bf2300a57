import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { RialtoClient } from "@rialto/client";
import { TestApp } from "./support/rialto-app.ts";
import { within } from "./support/wait.ts";

setDefaultTimeout(30_000);

describe("a client the session server refuses (issue 12, item 5)", () => {
  it("rejects RialtoClient.connect with the server's PERMISSION_DENIED and its message, at once", async () => {
    // Given an app whose allowedUids exclude this process's uid.
    const uid = process.getuid?.() ?? 0;
    await using app = await TestApp.start({ config: { allowedUids: [uid + 1] } });

    // When a client connects.
    const started = performance.now();
    const refused = await within(
      RialtoClient.connect({ socketPath: app.socketPath }).then(
        () => undefined,
        (error: unknown) => error,
      ),
      "the refusal",
    );

    // Then it fails with the server's reason (not CONNECTION_LOST, not a TIMEOUT), well before
    // the call deadline.
    expect(refused).toMatchObject({
      name: "RialtoError",
      code: "PERMISSION_DENIED",
      message: expect.stringContaining(`uid ${uid} may not connect to this app's session server`),
    });
    expect(performance.now() - started).toBeLessThan(2000);
    // And the app is untouched.
    expect(app.manager.getState(app.appId)).toBe("Active");
  });

  it("still connects a client whose uid is listed", async () => {
    const uid = process.getuid?.() ?? 0;
    await using app = await TestApp.start({ config: { allowedUids: [uid] } });
    const client = await app.connect();
    expect(await client.ping(4)).toBe(4);
  });
});
