import type { PlaybackOptions } from "@rialto/protocol";
import { createGstreamerEngine } from "./gstreamer/gstreamer-engine.ts";
import type { MediaClock } from "./media-clock.ts";
import type { MediaEngine } from "./media-engine.ts";
import { createVirtualEngine } from "./virtual-engine.ts";

/** The engine `playback.engine` names (absent: `virtual`), on `clock` (default the system clock). */
export function selectEngine(playback: PlaybackOptions, clock?: MediaClock): MediaEngine {
  return playback.engine === "gstreamer"
    ? createGstreamerEngine({ clock })
    : createVirtualEngine({ clock });
}
