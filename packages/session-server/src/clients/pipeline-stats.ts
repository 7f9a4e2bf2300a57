import type { PipelineStatsReport, SourceId, SourceStatsReport } from "@rialto/protocol";
import type { MediaKind } from "@rialto/shm";
import type { Pipeline } from "../media/media-engine.ts";

/**
 * One pipeline's line of the `control/stats` report: its state, position and the rendering
 * counters of its sources, summed per kind. A source the engine no longer knows (removed in a
 * race) is skipped: the report is a best-effort view, never a reason to fail.
 */
export function pipelineStatsReport(
  pipelineId: number,
  pipeline: Pipeline,
  sources: ReadonlyMap<SourceId, MediaKind>,
): PipelineStatsReport {
  const byKind = new Map<MediaKind, SourceStatsReport>();
  for (const [sourceId, kind] of sources) {
    let stats: ReturnType<Pipeline["getStats"]>;
    try {
      stats = pipeline.getStats(sourceId);
    } catch {
      continue;
    }
    const total = byKind.get(kind) ?? {
      kind,
      renderedFrames: 0,
      droppedFrames: 0,
      renderedBytes: 0,
    };
    total.renderedFrames += stats.renderedFrames;
    total.droppedFrames += stats.droppedFrames;
    total.renderedBytes += stats.renderedBytes;
    byKind.set(kind, total);
  }
  let positionNs = 0;
  try {
    positionNs = Math.max(0, Math.round(pipeline.getPosition()));
  } catch {
    // A pipeline without a position yet (Idle) reports 0.
  }
  return { pipelineId, state: pipeline.state, positionNs, sources: [...byKind.values()] };
}
