#!/usr/bin/env bash
# Makes the clip bench/gst-playback.ts plays: the demo clip's recipe (apps/demo-app/media/
# make-clip.sh: testsrc2 + a 440 Hz sine, H.264 Constrained Baseline at 25 fps with a keyframe
# every second, AAC-LC stereo 48 kHz 96 kb/s), only longer, at any size.
#
#   make-bench-clip.sh OUT.mp4 [SECONDS=30] [WIDTHxHEIGHT=320x240]
#
# Deterministic (bit-exact flags, no metadata, one x264 thread), so every run of the benchmark
# decodes the same bytes with a given ffmpeg build. ffmpeg is a tool of this script only; the
# benchmark calls it into a temporary directory and falls back to the bundled 5 s clip without it.
set -euo pipefail
out=${1:?usage: make-bench-clip.sh OUT.mp4 [SECONDS] [WIDTHxHEIGHT]}
seconds=${2:-30}
size=${3:-320x240}

ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=${size}:rate=25" \
  -f lavfi -i sine=frequency=440:sample_rate=48000 \
  -t "$seconds" -map 0:v -map 1:a \
  -c:v libx264 -profile:v baseline -pix_fmt yuv420p -g 25 -threads 1 \
  -c:a aac -b:a 96k -ac 2 \
  -fflags +bitexact -flags:v +bitexact -flags:a +bitexact -map_metadata -1 \
  -movflags +faststart "$out"
