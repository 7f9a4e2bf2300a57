import { describe, expect, it } from "bun:test";
import { RialtoError } from "@rialto/protocol";
import fc from "fast-check";
import { rejectionOf } from "../test-support/rejection.ts";
import { COMMON_SYSTEM_ID, parsePsshBoxes } from "./pssh.ts";

const WIDEVINE = "edef8ba979d64acea3c827dcd51d21ed";
const KID_A = "0123456789abcdef0123456789abcdef";
const KID_B = "fedcba9876543210fedcba9876543210";

/** A pssh box written field by field (ISO/IEC 23001-7 section 8.1). */
function pssh(options: { version: number; systemId: string; kids?: string[]; data?: string }) {
  const kids = options.version >= 1 ? (options.kids ?? []) : [];
  const body =
    `0${options.version}000000${options.systemId}` +
    (options.version >= 1 ? kids.length.toString(16).padStart(8, "0") + kids.join("") : "");
  const data = options.data ?? "";
  const payload = `${body}${(data.length / 2).toString(16).padStart(8, "0")}${data}`;
  const size = 8 + payload.length / 2;
  return `${size.toString(16).padStart(8, "0")}70737368${payload}`;
}

function bytes(hex: string): Uint8Array {
  return Uint8Array.fromHex(hex);
}

const parseError = (hex: string) => rejectionOf(Promise.try(() => parsePsshBoxes(bytes(hex))));

describe("parsePsshBoxes", () => {
  it("reads the key ids of a version-1 box of the common system", () => {
    const [box] = parsePsshBoxes(
      bytes(pssh({ version: 1, systemId: COMMON_SYSTEM_ID, kids: [KID_A, KID_B] })),
    );
    expect(box?.version).toBe(1);
    expect(box?.systemId).toBe(COMMON_SYSTEM_ID);
    expect(box?.keyIds.map((kid) => kid.toHex())).toEqual([KID_A, KID_B]);
  });

  it("reads concatenated boxes of other systems and versions, with their data", () => {
    const hex =
      pssh({ version: 0, systemId: WIDEVINE, data: "0801121001" }) +
      pssh({ version: 1, systemId: COMMON_SYSTEM_ID, kids: [KID_A], data: "aa" });
    const boxes = parsePsshBoxes(bytes(hex));
    expect(boxes.map((b) => [b.version, b.systemId, b.keyIds.length, b.data.toHex()])).toEqual([
      [0, WIDEVINE, 0, "0801121001"],
      [1, COMMON_SYSTEM_ID, 1, "aa"],
    ]);
  });

  it("reads a box with a 64-bit size and a last box with size 0 (to the end)", () => {
    const normal = pssh({ version: 1, systemId: COMMON_SYSTEM_ID, kids: [KID_A] });
    const largeSize = (normal.length / 2 + 8).toString(16).padStart(16, "0");
    const withLargeSize = `0000000170737368${largeSize}${normal.slice(16)}`;
    const toEnd = `00000000${pssh({ version: 1, systemId: COMMON_SYSTEM_ID, kids: [KID_B] }).slice(8)}`;
    const boxes = parsePsshBoxes(bytes(withLargeSize + toEnd));
    expect(boxes.flatMap((b) => b.keyIds.map((kid) => kid.toHex()))).toEqual([KID_A, KID_B]);
  });

  it("skips the body of a box of an unknown version", () => {
    const future = `0000001c7073736802000000${COMMON_SYSTEM_ID}`;
    const [box] = parsePsshBoxes(bytes(future));
    expect([box?.version, box?.keyIds.length]).toEqual([2, 0]);
  });

  it("refuses garbage with INVALID_ARGUMENT naming the problem", async () => {
    const good = pssh({ version: 1, systemId: COMMON_SYSTEM_ID, kids: [KID_A] });
    const cases: [string, string][] = [
      ["", "is empty"],
      ["000000", "3 trailing bytes"],
      [`${good.slice(0, 8)}6d6f6f76${good.slice(16)}`, '"moov" box'],
      [`000000ff${good.slice(8)}`, "claims 255 bytes"],
      [good.slice(0, -8), "claims 52 bytes; 48 remain"],
      [`00000014${good.slice(8, 40)}`, "too short for its version, flags and system id"],
      [`${good.slice(0, 56)}00000009${good.slice(64)}`, "too short for 9 key ids"],
      [`${good}00`, "1 trailing bytes"],
      [`${good.slice(0, -8)}00000001`, "data size 1; 0 remain"],
      [`00000001${good.slice(8, 16)}0000000100000000${good.slice(16)}`, "more than 4 GiB"],
    ];
    for (const [hex, message] of cases) {
      const error = await parseError(hex);
      expect([error.code, error.message]).toEqual([
        "INVALID_ARGUMENT",
        expect.stringContaining(message),
      ]);
    }
  });

  it("refuses more key ids than the limit", () => {
    const kids = Array.from({ length: 3 }, () => KID_A);
    const hex = pssh({ version: 1, systemId: COMMON_SYSTEM_ID, kids });
    expect(() => parsePsshBoxes(bytes(hex), 2)).toThrow("more than 2 key ids");
  });

  it("never throws anything but a RialtoError on random bytes", () => {
    const good = bytes(pssh({ version: 1, systemId: COMMON_SYSTEM_ID, kids: [KID_A] }));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(), (noise, at) => {
        const mutated = new Uint8Array([...good.subarray(0, at % good.byteLength), ...noise]);
        try {
          parsePsshBoxes(mutated);
        } catch (error) {
          expect(error).toBeInstanceOf(RialtoError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
