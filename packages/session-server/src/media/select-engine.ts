import type { PlaybackOptions } from "@rialto/protocol";
import { SNAPSHOT_ENV } from "./gstreamer/contact-sheet.ts";
import { createGstreamerEngine } from "./gstreamer/gstreamer-engine.ts";
import type { MediaClock } from "./media-clock.ts";
import type { MediaEngine } from "./media-engine.ts";
import { createVirtualEngine } from "./virtual-engine.ts";

/**
 * The engine `playback.engine` names (absent: `virtual`), on `clock` (default the system clock);
 * the GStreamer engine writes contact sheets where `RIALTO_GST_SNAPSHOT` says.
 */
export function selectEngine(playback: PlaybackOptions, clock?: MediaClock): MediaEngine {
  return playback.engine === "gstreamer"
    ? createGstreamerEngine({ clock, snapshotPath: process.env[SNAPSHOT_ENV] || undefined })
    : createVirtualEngine({ clock });
}
