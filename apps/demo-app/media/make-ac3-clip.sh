#!/usr/bin/env bash
# Makes clip-ac3.mp4: 5 s of AC-3 stereo 48 kHz 96 kb/s (a 550 Hz tone), the demo clip's length,
# for the audio codec switch scenario (AAC → AC-3 → AAC under the demo clip's video). ffmpeg is a
# tool for this script only; the clip is committed.
set -euo pipefail
cd "$(dirname "$0")"

ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i sine=frequency=550:sample_rate=48000 \
  -t 5 -c:a ac3 -b:a 96k -ac 2 \
  -fflags +bitexact -flags:a +bitexact -map_metadata -1 \
  -movflags +faststart clip-ac3.mp4
