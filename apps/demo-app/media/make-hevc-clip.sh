#!/usr/bin/env bash
# Makes clip-hevc.mp4: 1 s of H.265 Main 320x240 at 25 fps with B-frames (hvc1) + AAC-LC stereo
# 48 kHz, for the GStreamer engine's H.265 test. ffmpeg (with libx265) is a tool for this script
# only; the clip is committed, and make-decoded-golden.sh makes what a decoder must output for it.
set -euo pipefail
cd "$(dirname "$0")"

ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i testsrc2=size=320x240:rate=25 \
  -f lavfi -i sine=frequency=660:sample_rate=48000 \
  -t 1 -map 0:v -map 1:a \
  -c:v libx265 -preset fast -x265-params "bframes=3:pools=1:frame-threads=1:log-level=error" \
  -tag:v hvc1 -pix_fmt yuv420p -g 25 \
  -c:a aac -b:a 96k -ac 2 \
  -fflags +bitexact -flags:v +bitexact -flags:a +bitexact -map_metadata -1 \
  -movflags +faststart clip-hevc.mp4
