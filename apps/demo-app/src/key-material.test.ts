import { describe, expect, it } from "bun:test";
import { RialtoError } from "@rialto/protocol";
import { licenseOf, readKeyMaterial } from "./key-material.ts";
import { TEST_CLIPS_DIR } from "./mp4/test-support/test-clips.ts";

describe("readKeyMaterial", () => {
  it("reads --key KID:KEY values and a JWK set into one map, and makes the license of the ids asked for", async () => {
    const material = await readKeyMaterial(
      ["7E571D01-7e57-1d01-7e57-1d017e571d01:00112233445566778899aabbccddeeff"],
      `${TEST_CLIPS_DIR}/keys.json`,
    );
    expect([...material.keys()]).toEqual(["7e571d017e571d017e571d017e571d01"]);
    expect(material.get("7e571d017e571d017e571d017e571d01")?.toHex()).toBe(
      "00112233445566778899aabbccddeeff",
    );
    expect(
      licenseOf(material, ["7e571d017e571d017e571d017e571d01", "00000000000000000000000000000000"]),
    ).toEqual({
      keys: [{ kty: "oct", kid: "flcdAX5XHQF-Vx0BflcdAQ", k: "ABEiM0RVZneImaq7zN3u_w" }],
    });
  });

  it("refuses a malformed --key, a missing file and a file that is not a JWK set, with typed errors", async () => {
    const failure = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (e: unknown) => e,
      );
    const bad = await failure(readKeyMaterial(["abc:def"], undefined));
    expect(bad).toBeInstanceOf(RialtoError);
    expect((bad as RialtoError).code).toBe("INVALID_ARGUMENT");
    const missing = await failure(readKeyMaterial([], "/nonexistent/keys.json"));
    expect((missing as RialtoError).code).toBe("NOT_FOUND");
    const notJwk = await failure(
      readKeyMaterial([], `${TEST_CLIPS_DIR}/fmp4-multitrun.golden.json`),
    );
    expect((notJwk as RialtoError).message).toContain('is not a JWK set (no "keys" array)');
  });
});
