import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { RialtoError } from "@rialto/protocol";

/** Shortest token accepted from a file (characters). */
export const MIN_TOKEN_LENGTH = 16;

/** A fresh random token: 32 bytes as 64 hex characters. */
export function generateToken(): string {
  return randomBytes(32).toString("hex");
}

/**
 * Reads the token from `path`: its first line, at least {@link MIN_TOKEN_LENGTH} characters.
 * The file must not be readable by group or others (it is a password). Throws INVALID_ARGUMENT.
 */
export function readTokenFile(path: string): string {
  let text: string;
  try {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `--http-token-file ${path} is readable by others (mode ${mode.toString(8)}); chmod 600 it`,
      );
    }
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof RialtoError) throw error;
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `--http-token-file ${path} cannot be read: ${(error as Error).message}`,
    );
  }
  const token = (text.split("\n")[0] ?? "").trim();
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `--http-token-file ${path}: the token must be one word of at least ${MIN_TOKEN_LENGTH} characters`,
    );
  }
  return token;
}

/**
 * Checks a presented token against the expected one in constant time: both are hashed to
 * 32 bytes first, so neither the content nor the length of the expected token leaks through
 * how long the comparison takes.
 */
export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(expected), digest(presented));
}

/** The token of an `Authorization: Bearer <token>` header, if that is what it holds. */
export function bearerToken(header: string | null): string | undefined {
  if (header === null) return undefined;
  const match = /^Bearer ([^\s]+)$/.exec(header);
  return match?.[1];
}
