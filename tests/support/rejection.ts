import { RialtoError } from "@rialto/protocol";

/** The RialtoError `promise` rejects with; fails when it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<RialtoError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RialtoError) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}
