export { SNAPSHOT_ENV } from "./contact-sheet.ts";
export {
  createGstreamerEngine,
  type GstreamerEngineOptions,
  type GstreamerStatus,
  gstreamerStatus,
} from "./gstreamer-engine.ts";
export { DEFAULT_GSTREAMER_TUNING, type GstreamerTuning } from "./gstreamer-pipeline.ts";
