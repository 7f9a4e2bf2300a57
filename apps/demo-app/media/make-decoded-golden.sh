#!/usr/bin/env bash
# Writes what a decoder must output for the committed clips, made by ffmpeg (a decoder this
# project did not write), for the GStreamer engine's checksum sink to be compared with:
#
#   clip.mp4      → decoded.json       clip-hevc.mp4 → clip-hevc.decoded.json
#
# Per track: the frame count and the SHA-256 over the decoded output in order: video as tightly
# packed I420 (ffmpeg's yuv420p rawvideo, every frame once: -fps_mode passthrough), audio as F32LE
# interleaved; for clip.mp4 also the audio at volume 0.5 (exact in float, as GStreamer's volume
# element computes it). The per-frame MD5s (ffmpeg -f framemd5) go beside each, in
# <name>.framemd5, to find the first frame that differs.
#
# The AAC track's edit list is ignored (-ignore_editlist 1): the demo pushes every sample, the
# encoder's priming frame included, and GStreamer decodes all of them; with the edit list
# ffmpeg drops the first 1024 samples per channel. Decoding is exact for H.264, H.265 and for AAC
# as F32 (S16 would differ by rounding between decoders), so any ffmpeg build gives these values.
set -euo pipefail
cd "$(dirname "$0")"
version=$(ffmpeg -hide_banner -version | head -n 1 | cut -d ' ' -f 3)

decode() { # <file> <stream> <args...>: the first stream of a kind decoded, on stdout
  local file=$1 stream=$2
  shift 2
  ffmpeg -hide_banner -loglevel error -ignore_editlist 1 -i "$file" -map "0:$stream:0" "$@" -
}
sha() { sha256sum | cut -d ' ' -f 1; }

golden() { # <clip> <json> <framemd5> [extra json fields]
  local clip=$1 json=$2 md5=$3 extra=${4:-}
  local video_sha audio_sha video_frames audio_frames
  video_sha=$(decode "$clip" v -pix_fmt yuv420p -fps_mode passthrough -f rawvideo | sha)
  audio_sha=$(decode "$clip" a -c:a pcm_f32le -f f32le | sha)
  ffmpeg -hide_banner -loglevel error -ignore_editlist 1 -i "$clip" -map 0:v:0 -map 0:a:0 \
    -pix_fmt yuv420p -fps_mode passthrough -c:a pcm_f32le -f framemd5 -y "$md5"
  video_frames=$(grep -c '^0,' "$md5")
  audio_frames=$(grep -c '^1,' "$md5")
  cat >"$json" <<JSON
{
  "file": "$clip",
  "madeWith": "ffmpeg $version",
  "video": { "format": "I420", "frames": $video_frames, "sha256": "$video_sha" },
  "audio": { "format": "F32LE", "frames": $audio_frames, "sha256": "$audio_sha" }$extra
}
JSON
}

half=$(decode clip.mp4 a -af volume=0.5:precision=float -c:a pcm_f32le -f f32le | sha)
golden clip.mp4 decoded.json decoded.framemd5 ",
  \"audioAtHalfVolume\": { \"format\": \"F32LE\", \"sha256\": \"$half\" }"
golden clip-hevc.mp4 clip-hevc.decoded.json clip-hevc.decoded.framemd5
