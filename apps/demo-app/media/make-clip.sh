#!/usr/bin/env bash
# Remakes the demo clip and its expected checksums. ffmpeg is a tool for this script only, not a
# project dependency: clip.mp4 and clip.json are committed, and the tests read them.
#
#   clip.mp4   5 s: H.264 Constrained Baseline 320x240 at 25 fps (keyframe every second, no
#              B-frames, so decode order is presentation order) + AAC-LC stereo 48 kHz 96 kb/s.
#   clip.json  per track: id, type, sample count and the SHA-256 over the samples' bytes in
#              order, as ffmpeg itself computes them (streamhash over the copied packets). The
#              demuxer's trackChecksum must reproduce them.
#   clip.golden.json  ffprobe's view of every packet (make-golden.ts): what the demo's success
#              line and the tests compare the demuxer with; its presentedSha256 leaves out the
#              AAC priming packet (flagged discard: the edit list starts after it).
#
# Deterministic: bit-exact flags, no metadata, one x264 thread (x264 output depends on the
# thread count). The same ffmpeg build gives the same bytes; another build may differ (x264
# writes its version into the stream), in which case commit the new clip.mp4 with its clip.json.
set -euo pipefail
cd "$(dirname "$0")"

ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i testsrc2=size=320x240:rate=25 \
  -f lavfi -i sine=frequency=440:sample_rate=48000 \
  -t 5 -map 0:v -map 1:a \
  -c:v libx264 -profile:v baseline -pix_fmt yuv420p -g 25 -threads 1 \
  -c:a aac -b:a 96k -ac 2 \
  -fflags +bitexact -flags:v +bitexact -flags:a +bitexact -map_metadata -1 \
  -movflags +faststart clip.mp4

# "<index>,<type letter>,SHA256=<hex>" per stream, e.g. "0,v,SHA256=f7ee...".
hashes=$(ffmpeg -hide_banner -loglevel error -i clip.mp4 -map 0 -c copy -f streamhash -hash sha256 -)
# "<index>,<codec_type>,<track id as 0x..>,<packets>" per stream.
streams=$(ffprobe -v error -count_packets \
  -show_entries stream=index,codec_type,id,nb_read_packets -of csv=p=0 clip.mp4)
version=$(ffmpeg -hide_banner -version | head -n 1 | cut -d ' ' -f 3)

{
  printf '{\n  "file": "clip.mp4",\n  "madeWith": "ffmpeg %s",\n  "tracks": [\n' "$version"
  separator=""
  while IFS=, read -r index type id packets; do
    sha=$(grep "^${index}," <<<"$hashes" | sed 's/.*SHA256=//')
    printf '%s    {\n      "id": %d,\n      "type": "%s",\n      "samples": %d,\n      "sha256": "%s"\n    }' \
      "$separator" "$id" "$type" "$packets" "$sha"
    separator=$',\n'
  done <<<"$streams"
  printf '\n  ]\n}\n'
} >clip.json

# Every packet as ffprobe reads it (sizes, times, flags, SHA-256), and the checksums of all and of
# the presented packets: the golden values the demo and the tests compare the demuxer with.
bun make-golden.ts clip.mp4 >clip.golden.json
(cd ../../.. && bun x biome format --write apps/demo-app/media/clip.golden.json >/dev/null)

echo "clip.mp4: $(wc -c <clip.mp4) bytes; clip.json:"
cat clip.json
