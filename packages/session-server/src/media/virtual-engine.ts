import { type MediaClock, systemClock } from "./media-clock.ts";
import type { MediaEngine } from "./media-engine.ts";
import {
  DEFAULT_VIRTUAL_TUNING,
  VirtualPipeline,
  type VirtualPipelineTuning,
} from "./virtual-pipeline.ts";

/** Options of {@link createVirtualEngine}. */
export interface VirtualEngineOptions {
  /** Time source and timers; default the system clock (tests pass a manual clock). */
  readonly clock?: MediaClock;
  /** Renderer knobs; defaults in `DEFAULT_VIRTUAL_TUNING`. */
  readonly tuning?: Partial<VirtualPipelineTuning>;
}

/**
 * The default media engine: virtual pipelines that schedule and count frames without any media
 * hardware (SPEC 9), so the whole system runs on a plain Linux machine.
 */
export function createVirtualEngine(options: VirtualEngineOptions = {}): MediaEngine {
  const clock = options.clock ?? systemClock;
  const tuning = { ...DEFAULT_VIRTUAL_TUNING, ...options.tuning };
  return {
    name: "virtual",
    createPipeline: (pipelineOptions) => new VirtualPipeline(pipelineOptions, clock, tuning),
  };
}
