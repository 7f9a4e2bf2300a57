import { describeValue, MAX_PLAYBACK_RATE, RialtoError, type SourceId } from "@rialto/protocol";

/**
 * The argument and state checks every engine's pipeline makes, with the same codes and messages
 * (`pipeline/<method>: pipeline <id> ...`), so engines differ only where they play.
 */

/** `INVALID_STATE`: the call does not fit the pipeline's state. */
export function refuse(pipelineId: number, method: string, why: string): never {
  throw new RialtoError("INVALID_STATE", `pipeline/${method}: pipeline ${pipelineId} ${why}`);
}

/** The source `sourceId` of a pipeline; `NOT_FOUND` when it has none of that id. */
export function sourceOf<S>(
  sources: ReadonlyMap<SourceId, S>,
  pipelineId: number,
  method: string,
  sourceId: SourceId,
): S {
  const source = sources.get(sourceId);
  if (source === undefined) {
    throw new RialtoError(
      "NOT_FOUND",
      `pipeline/${method}: pipeline ${pipelineId} has no source ${describeValue(sourceId)}`,
    );
  }
  return source;
}

/** `INVALID_ARGUMENT` unless the pipeline has no source of `type` yet (one per type). */
export function checkOneSourcePerType(
  sources: Iterable<{ readonly id: SourceId; readonly kind: string }>,
  pipelineId: number,
  type: string,
): void {
  for (const existing of sources) {
    if (existing.kind === type) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `pipeline/attachSource: pipeline ${pipelineId} already has a ${type} source (${existing.id})`,
      );
    }
  }
}

/** `INVALID_ARGUMENT` unless `positionNs` is a non-negative safe integer. */
export function checkPosition(method: string, positionNs: number): void {
  if (!Number.isSafeInteger(positionNs) || positionNs < 0) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `pipeline/${method}: position ${describeValue(positionNs)} ns is not a non-negative integer`,
    );
  }
}

/** `INVALID_ARGUMENT` unless `rate` is > 0 and at most `MAX_PLAYBACK_RATE`. */
export function checkRate(rate: number): void {
  if (!(typeof rate === "number" && rate > 0 && rate <= MAX_PLAYBACK_RATE)) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `pipeline/setPlaybackRate: rate ${describeValue(rate)} is not > 0 and <= ${MAX_PLAYBACK_RATE}`,
    );
  }
}
