import { dlopen, type Pointer } from "bun:ffi";

// The engine's GstLibrary only pulls without waiting (its JS thread must never block). The bare
// baseline may block, which is the fastest way to see a sample: these two appsink calls with a
// timeout, and the unref of what they return.
const { symbols: app } = dlopen("libgstapp-1.0.so.0", {
  gst_app_sink_try_pull_sample: { args: ["ptr", "u64"], returns: "ptr" },
  gst_app_sink_is_eos: { args: ["ptr"], returns: "i32" },
});
const { symbols: gst } = dlopen("libgstreamer-1.0.so.0", {
  gst_mini_object_unref: { args: ["ptr"], returns: "void" },
});

/**
 * Waits up to `timeoutNs` for one sample of `appsink` and drops it; true when one came. Blocks
 * the calling (JS) thread in GStreamer, using no CPU while it waits.
 */
export function takeSample(appsink: Pointer, timeoutNs: number): boolean {
  const sample = app.gst_app_sink_try_pull_sample(appsink, timeoutNs);
  if (sample === null) return false;
  gst.gst_mini_object_unref(sample);
  return true;
}

/** Whether `appsink` got EOS and has no sample left. */
export function drained(appsink: Pointer): boolean {
  return app.gst_app_sink_is_eos(appsink) !== 0;
}
