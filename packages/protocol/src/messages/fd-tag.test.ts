import { describe, expect, it } from "bun:test";
import { decodeFdTag, encodeFdTag } from "./fd-tag.ts";

describe("fd tag records", () => {
  it("round-trips a tag as four little-endian bytes", () => {
    expect([...encodeFdTag(0x01020304)]).toEqual([4, 3, 2, 1]);
    expect(decodeFdTag(encodeFdTag(2_147_483_647))).toBe(2_147_483_647);
  });

  it("refuses a record that is not four bytes with PROTOCOL_ERROR", () => {
    expect(() => decodeFdTag(new Uint8Array(16))).toThrow(/16 bytes is not a 4-byte fd tag/);
  });
});
