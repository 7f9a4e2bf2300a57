import { describe, expect, it, setDefaultTimeout } from "bun:test";
import type { KeyStatusesChangedEvent, LicenseRequestEvent } from "@rialto/protocol";
import { MediaKeysMethods } from "@rialto/protocol";
import keyFile from "../apps/demo-app/media/encrypted/key.json";
import { TestApp } from "./support/rialto-app.ts";
import { eventually } from "./support/wait.ts";

setDefaultTimeout(30_000);

/** The license the demo clip's license server would answer with: a W3C ClearKey JWK set. */
const LICENSE = JSON.stringify(keyFile.license);

describe("media keys through the real client and session server", () => {
  it("runs the W3C ClearKey license exchange for cenc and keyids init data", async () => {
    // Step 1: an Active app and a client with a ClearKey MediaKeys.
    await using app = await TestApp.start();
    const client = await app.connect();
    const mediaKeys = await client.createMediaKeys("org.w3.clearkey");
    const requests: LicenseRequestEvent[] = [];
    const statuses: KeyStatusesChangedEvent[] = [];
    mediaKeys.on("licenseRequest", (event) => requests.push(event));
    mediaKeys.on("keyStatusesChanged", (event) => statuses.push(event));

    // Step 2: cenc init data (the clip's pssh box) gives the W3C ClearKey license request.
    const cencSession = await mediaKeys.createKeySession();
    await mediaKeys.generateRequest(
      cencSession,
      "cenc",
      Uint8Array.fromBase64(keyFile.cencInitData),
    );
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ keySessionId: cencSession, messageEncoding: "utf8" });
    expect(JSON.parse(requests[0]?.message ?? "")).toEqual({
      kids: keyFile.keyIdsInitData.kids,
      type: "temporary",
    });

    // Step 3: the JWK-set license makes the key usable.
    await mediaKeys.updateSession(cencSession, LICENSE);
    expect(statuses).toEqual([
      { keySessionId: cencSession, statuses: [{ keyId: keyFile.keyId, status: "usable" }] },
    ]);

    // Step 4: keyids init data, and a license sent as bytes, in a second session.
    const keyidsSession = await mediaKeys.createKeySession("temporary");
    expect(keyidsSession).not.toBe(cencSession);
    const keyIds = new TextEncoder().encode(JSON.stringify(keyFile.keyIdsInitData));
    await mediaKeys.generateRequest(keyidsSession, "keyids", keyIds);
    expect(requests[1]?.message).toBe(
      `{"kids":["${keyFile.keyIdsInitData.kids[0]}"],"type":"temporary"}`,
    );
    await mediaKeys.updateSession(keyidsSession, new TextEncoder().encode(LICENSE));
    expect(statuses[1]?.statuses).toEqual([{ keyId: keyFile.keyId, status: "usable" }]);

    // Step 5: closing releases the keys (no statuses left); removing forgets the session.
    await mediaKeys.closeKeySession(cencSession);
    expect(statuses[2]).toEqual({ keySessionId: cencSession, statuses: [] });
    await mediaKeys.removeKeySession(cencSession);
    await expect(mediaKeys.closeKeySession(cencSession)).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    expect(mediaKeys.keySessionIds).toEqual([keyidsSession]);
    await mediaKeys.destroy();
    await expect(
      client.call(MediaKeysMethods.closeKeySession, { keySessionId: keyidsSession }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("refuses an unknown key system with NOT_FOUND and a bad license with INVALID_ARGUMENT", async () => {
    await using app = await TestApp.start();
    const client = await app.connect();
    await expect(client.createMediaKeys("com.widevine.alpha")).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: expect.stringContaining('"com.widevine.alpha" is not supported'),
    });
    const mediaKeys = await client.createMediaKeys("org.w3.clearkey");
    const session = await mediaKeys.createKeySession();
    await expect(mediaKeys.updateSession(session, LICENSE)).rejects.toMatchObject({
      code: "INVALID_STATE",
    });
    await mediaKeys.generateRequest(session, "cenc", Uint8Array.fromBase64(keyFile.cencInitData));
    await expect(mediaKeys.updateSession(session, '{"keys":"none"}')).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });

  it("carries large init data through the shared-memory pool", async () => {
    await using app = await TestApp.start();
    const client = await app.connect();
    const mediaKeys = await client.createMediaKeys("org.w3.clearkey");
    const session = await mediaKeys.createKeySession();
    const kids = Array.from({ length: 128 }, (_, i) =>
      Buffer.from(i.toString(16).padStart(32, "0"), "hex").toString("base64url"),
    );
    const requests: LicenseRequestEvent[] = [];
    mediaKeys.on("licenseRequest", (event) => requests.push(event));
    const poolCallsBefore = client.getStats().methods["shm/call"]?.count ?? 0;
    await mediaKeys.generateRequest(
      session,
      "keyids",
      new TextEncoder().encode(JSON.stringify({ kids })),
    );
    expect(client.getStats().methods["shm/call"]?.count ?? 0).toBe(poolCallsBefore + 1);
    expect(JSON.parse(requests[0]?.message ?? "").kids).toEqual(kids);
  });

  it("refuses key calls with INVALID_STATE while the app is Inactive, and released its MediaKeys", async () => {
    // Step 1: a client holding a MediaKeys with a key session on an Active app.
    await using app = await TestApp.start();
    const client = await app.connect();
    const mediaKeys = await client.createMediaKeys("org.w3.clearkey");
    const keySessionId = await mediaKeys.createKeySession();
    const released: number[] = [];
    mediaKeys.on("released", ({ mediaKeysId }) => released.push(mediaKeysId));

    // Step 2: the app goes Inactive: the client learns its MediaKeys is gone.
    await app.setState("Inactive");
    await eventually(() => mediaKeys.lifecycle === "released", "the MediaKeys to be released");
    expect(released).toEqual([mediaKeys.id]);

    // Step 3: every key call is refused while Inactive.
    await expect(client.createMediaKeys("org.w3.clearkey")).rejects.toMatchObject({
      code: "INVALID_STATE",
      message: '"keys/create": media calls need the app Running (it is Inactive)',
    });
    await expect(
      client.call(MediaKeysMethods.closeKeySession, { keySessionId }),
    ).rejects.toMatchObject({ code: "INVALID_STATE" });

    // Step 4: Active again: the old MediaKeys and key session are unknown to the server.
    await app.setState("Active");
    await eventually(() => client.applicationState === "Running", "Running");
    await expect(
      client.call(MediaKeysMethods.closeKeySession, { keySessionId }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(
      client.call(MediaKeysMethods.createKeySession, {
        mediaKeysId: mediaKeys.id,
        sessionType: "temporary",
      }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
