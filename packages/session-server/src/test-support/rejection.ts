import { RialtoError } from "@rialto/protocol";

/** The RialtoError `promise` rejects with; throws if it resolves or rejects with anything else. */
export async function rejectionOf(promise: Promise<unknown>): Promise<RialtoError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof RialtoError))
    throw new Error(`expected a RialtoError, got ${String(error)}`);
  return error;
}
