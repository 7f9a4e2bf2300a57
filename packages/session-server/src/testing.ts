/**
 * `@rialto/session-server/testing`: what tests and benchmarks use and products do not: a session
 * server process driven by hand, the virtual engine on a manual clock, and the GStreamer
 * engine's own building blocks for an in-process baseline (`bench/gst-playback.ts`).
 */
export { ClientState } from "./clients/client-state.ts";
export { MediaKeysBook } from "./clients/media-keys-book.ts";
export { aesDecryptor } from "./keys/aes-decryptor.ts";
export { type GstLibrary, GstState, loadGstreamer } from "./media/gstreamer/gst-ffi.ts";
export { describeLaunch } from "./media/gstreamer/launch-description.ts";
export { planSource } from "./media/gstreamer/source-caps.ts";
export { ManualClock } from "./media/test-support/manual-clock.ts";
export { PipelineHarness } from "./media/test-support/pipeline-harness.ts";
export { type LogLine, SessionServerProcess } from "./test-support/session-server-process.ts";
