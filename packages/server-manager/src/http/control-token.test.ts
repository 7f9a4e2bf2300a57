import { describe, expect, it } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bearerToken, generateToken, readTokenFile, tokenMatches } from "./control-token.ts";

describe("the HTTP control token", () => {
  it("matches only the exact token, whatever the length of the presented one", () => {
    const token = generateToken();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(tokenMatches(token, token)).toBe(true);
    expect(tokenMatches(token, `${token}x`)).toBe(false);
    expect(tokenMatches(token, token.slice(0, 63))).toBe(false);
    expect(tokenMatches(token, "")).toBe(false);
    expect(tokenMatches(token, undefined)).toBe(false);
  });

  it("reads a Bearer header and nothing else", () => {
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("bearer abc")).toBeUndefined();
    expect(bearerToken("Basic abc")).toBeUndefined();
    expect(bearerToken("Bearer a b")).toBeUndefined();
    expect(bearerToken(null)).toBeUndefined();
  });

  it("reads a token file of mode 0600 and refuses one others can read, or a short token", () => {
    const dir = mkdtempSync("/tmp/rialto-token-");
    try {
      const file = join(dir, "token");
      writeFileSync(file, "0123456789abcdefXYZ\nignored\n");
      chmodSync(file, 0o600);
      expect(readTokenFile(file)).toBe("0123456789abcdefXYZ");
      chmodSync(file, 0o644);
      expect(() => readTokenFile(file)).toThrow("is readable by others (mode 644); chmod 600 it");
      writeFileSync(file, "short\n");
      chmodSync(file, 0o600);
      expect(() => readTokenFile(file)).toThrow("at least 16 characters");
      expect(() => readTokenFile(join(dir, "missing"))).toThrow("cannot be read");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
