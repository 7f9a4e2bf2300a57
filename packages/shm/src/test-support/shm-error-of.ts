import { expect } from "bun:test";
import { ShmError } from "../errors.ts";

/**
 * Runs `action`, expects it to throw a {@link ShmError} and returns that error so a test can
 * look at its code, errno and message; fails the test when nothing or something else is thrown.
 */
export function errorOf(action: () => unknown): ShmError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ShmError);
    return error as ShmError;
  }
  throw new Error("expected a ShmError, nothing was thrown");
}
