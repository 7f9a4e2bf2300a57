import { describe, expect, it } from "bun:test";
import { rejectionOf } from "../test-support/rejection.ts";
import {
  clearKeyLicenseRequest,
  keyIdsFromInitData,
  parseJwkSet,
  responseBytes,
} from "./clearkey-messages.ts";
import { decodeBase64Url16, encodeBase64Url } from "./key-bytes.ts";
import { COMMON_SYSTEM_ID } from "./pssh.ts";

const KID_A = "0123456789abcdef0123456789abcdef";
const KID_B = "fedcba9876543210fedcba9876543210";
const b64url = (hex: string) => encodeBase64Url(Uint8Array.fromHex(hex));
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

const failure = (run: () => unknown) => rejectionOf(Promise.try(run));

function commonPssh(kids: string[]): Uint8Array {
  const payload = `01000000${COMMON_SYSTEM_ID}${kids.length.toString(16).padStart(8, "0")}${kids.join("")}00000000`;
  return Uint8Array.fromHex(
    `${(8 + payload.length / 2).toString(16).padStart(8, "0")}70737368${payload}`,
  );
}

describe("decodeBase64Url16", () => {
  it("decodes 22 unpadded base64url characters into 16 bytes", () => {
    expect(decodeBase64Url16(b64url("fb".repeat(16)), "kid").toHex()).toBe("fb".repeat(16));
    expect(b64url("fb".repeat(16))).toBe("-_v7-_v7-_v7-_v7-_v7-w");
  });

  it("refuses padding, the standard alphabet, other lengths and stray low bits", async () => {
    for (const text of [
      "-_v7-_v7-_v7-_v7-_v7-w==",
      "+/v7-_v7-_v7-_v7-_v7-w",
      "AAAA",
      "-_v7-_v7-_v7-_v7-_v7-x",
      16,
    ]) {
      expect((await failure(() => decodeBase64Url16(text, "kid"))).code).toBe("INVALID_ARGUMENT");
    }
  });
});

describe("keyIdsFromInitData", () => {
  it("takes the key ids of cenc init data from common-system pssh boxes, once each", () => {
    const initData = new Uint8Array([...commonPssh([KID_A, KID_B]), ...commonPssh([KID_A])]);
    expect(keyIdsFromInitData("cenc", initData).map((kid) => kid.toHex())).toEqual([KID_A, KID_B]);
  });

  it("refuses cenc init data without a common-system key id", async () => {
    const otherSystem = commonPssh([KID_A]);
    otherSystem.set(Uint8Array.fromHex("edef8ba979d64acea3c827dcd51d21ed"), 12);
    expect((await failure(() => keyIdsFromInitData("cenc", otherSystem))).message).toContain(
      "has no key id",
    );
  });

  it("reads keyids init data", () => {
    const initData = json({ kids: [b64url(KID_B), b64url(KID_A)] });
    expect(keyIdsFromInitData("keyids", initData).map((kid) => kid.toHex())).toEqual([
      KID_B,
      KID_A,
    ]);
  });

  it("refuses keyids init data that is not JSON, has no kids, or a bad kid", async () => {
    const cases: [Uint8Array, string][] = [
      [new Uint8Array([0xff, 0xfe]), "not UTF-8 JSON"],
      [json({ kids: [] }), '"kids": 1 to 128'],
      [json(null), '"kids": 1 to 128'],
      [json({ kids: Array.from({ length: 129 }, () => b64url(KID_A)) }), '"kids": 1 to 128'],
      [json({ kids: ["AAAA"] }), 'key id "AAAA"'],
    ];
    for (const [initData, message] of cases) {
      const error = await failure(() => keyIdsFromInitData("keyids", initData));
      expect([error.code, error.message]).toEqual([
        "INVALID_ARGUMENT",
        expect.stringContaining(message),
      ]);
    }
  });

  it("reads webm init data as one 16-byte key id", async () => {
    expect(keyIdsFromInitData("webm", Uint8Array.fromHex(KID_A))[0]?.toHex()).toBe(KID_A);
    expect((await failure(() => keyIdsFromInitData("webm", new Uint8Array(8)))).message).toContain(
      "8 bytes",
    );
  });
});

describe("the ClearKey license exchange messages", () => {
  it("writes the W3C license request", () => {
    const request = clearKeyLicenseRequest([Uint8Array.fromHex(KID_A)]);
    expect(JSON.parse(request)).toEqual({ kids: [b64url(KID_A)], type: "temporary" });
  });

  it("reads a JWK set, ignoring other members, a later duplicate winning", () => {
    const license = json({
      keys: [
        { kty: "oct", kid: b64url(KID_A), k: b64url("11".repeat(16)), alg: "A128KW" },
        { kty: "oct", kid: b64url(KID_B), k: b64url("22".repeat(16)) },
        { kty: "oct", kid: b64url(KID_A), k: b64url("33".repeat(16)) },
      ],
      type: "temporary",
    });
    const keys = parseJwkSet(license).map(({ keyId, key }) => [keyId.toHex(), key.toHex()]);
    expect(keys).toEqual([
      [KID_A, "33".repeat(16)],
      [KID_B, "22".repeat(16)],
    ]);
  });

  it("refuses a JWK set with a wrong kty, a short key, a bad kid or no keys", async () => {
    const good = { kty: "oct", kid: b64url(KID_A), k: b64url("11".repeat(16)) };
    const cases: [unknown, string][] = [
      [{ keys: [{ ...good, kty: "RSA" }] }, 'JWK 0 has kty "RSA"'],
      [{ keys: [good, { ...good, k: b64url("11".repeat(8)) }] }, "JWK 1 k"],
      [{ keys: [{ ...good, kid: "nope" }] }, "JWK 0 kid"],
      [{ keys: [] }, '"keys": 1 to 128'],
      [[good], '"keys": 1 to 128'],
    ];
    for (const [license, message] of cases) {
      const error = await failure(() => parseJwkSet(json(license)));
      expect([error.code, error.message]).toEqual([
        "INVALID_ARGUMENT",
        expect.stringContaining(message),
      ]);
    }
  });

  it("takes a response as UTF-8 text or as standard base64", async () => {
    expect(new TextDecoder().decode(responseBytes("{}", "utf8"))).toBe("{}");
    expect(new TextDecoder().decode(responseBytes(btoa('{"a":1}'), "base64"))).toBe('{"a":1}');
    expect((await failure(() => responseBytes("not base64!", "base64"))).code).toBe(
      "INVALID_ARGUMENT",
    );
  });
});
