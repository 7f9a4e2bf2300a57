import { describe, expect, it, setDefaultTimeout } from "bun:test";
import keyFile from "../apps/demo-app/media/encrypted/key.json";
import { TestApp } from "./support/rialto-app.ts";

setDefaultTimeout(30_000);

describe("media-keys capabilities and key queries (real client and session server)", () => {
  it("answers the key-system questions in any app state, Inactive included", async () => {
    await using app = await TestApp.start({ state: "Inactive" });
    const client = await app.connect();
    expect(await client.getSupportedKeySystems()).toEqual(["org.w3.clearkey"]);
    expect(await client.supportsKeySystem("org.w3.clearkey")).toBe(true);
    expect(await client.supportsKeySystem("com.widevine.alpha")).toBe(false);
    expect(await client.getSupportedKeySystemVersion("org.w3.clearkey")).toBe("1.0");
    await expect(
      client.getSupportedKeySystemVersion("com.microsoft.playready"),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await client.isServerCertificateSupported("org.w3.clearkey")).toBe(false);
  });

  it("says which keys a session holds, gives its CDM id, and refuses persistent sessions by name", async () => {
    await using app = await TestApp.start();
    const client = await app.connect();
    const mediaKeys = await client.createMediaKeys("org.w3.clearkey");
    const session = await mediaKeys.createKeySession();
    await mediaKeys.generateRequest(session, "cenc", Uint8Array.fromBase64(keyFile.cencInitData));

    // Before the license the session holds no key; after it, exactly the licensed one.
    expect(await mediaKeys.containsKey(session, keyFile.keyId)).toBe(false);
    await mediaKeys.updateSession(session, JSON.stringify(keyFile.license));
    expect(await mediaKeys.containsKey(session, keyFile.keyId)).toBe(true);
    expect(await mediaKeys.containsKey(session, "00".repeat(16))).toBe(false);
    expect(await mediaKeys.getCdmKeySessionId(session)).toBe(`org.w3.clearkey-${session}`);
    await expect(mediaKeys.containsKey(session + 99, keyFile.keyId)).rejects.toMatchObject({
      code: "NOT_FOUND",
    });

    await expect(mediaKeys.createKeySession("persistent-license")).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("persistent-license"),
    });
  });
});
