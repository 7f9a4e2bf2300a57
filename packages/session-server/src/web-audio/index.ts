export {
  MAX_PCM_CHANNELS,
  MAX_PCM_RATE,
  PCM_SAMPLE_SIZES,
  type PcmFormat,
  validatePcmConfig,
} from "./pcm-format.ts";
export { PcmRing, type RingSpace } from "./pcm-ring.ts";
export {
  DEFAULT_TICK_MS,
  PREFERRED_FRAMES,
  WebAudioRenderer,
  type WebAudioRendererOptions,
} from "./web-audio-renderer.ts";
