import { describe, expect, it } from "bun:test";
import { RialtoError } from "@rialto/protocol";
import keyFile from "../media/encrypted/key.json";
import { serveClearKeyLicense } from "./clearkey-license.ts";

const OTHER_KEY = { kty: "oct", kid: "AAECAwQFBgcICQoLDA0ODw", k: "EBESExQVFhcYGRobHB0eHw" };
const held = { keys: [...keyFile.license.keys, OTHER_KEY] };

function refusal(request: string): RialtoError {
  try {
    serveClearKeyLicense(request, held);
  } catch (error) {
    if (error instanceof RialtoError) return error;
    throw error;
  }
  throw new Error(`serveClearKeyLicense accepted ${request}`);
}

describe("the demo's ClearKey license server", () => {
  it("answers a W3C request with a JWK set of only the keys it asked for", () => {
    const request = JSON.stringify({ ...keyFile.keyIdsInitData, type: "temporary" });
    expect(JSON.parse(serveClearKeyLicense(request, held))).toEqual({
      keys: keyFile.license.keys,
      type: "temporary",
    });
  });

  it("refuses a request for keys it does not hold with NOT_FOUND naming them", () => {
    const error = refusal(JSON.stringify({ kids: ["ICEiIyQlJicoKSorLC0uLw"], type: "temporary" }));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain("ICEiIyQlJicoKSorLC0uLw");
  });

  it("refuses what is not a ClearKey request with INVALID_ARGUMENT", () => {
    expect(refusal("not json").code).toBe("INVALID_ARGUMENT");
    expect(refusal('{"type":"temporary"}').code).toBe("INVALID_ARGUMENT");
  });
});
