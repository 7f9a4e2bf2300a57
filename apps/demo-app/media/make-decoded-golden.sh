#!/usr/bin/env bash
# Writes decoded.json: what a decoder must output for clip.mp4, made by ffmpeg (a decoder this
# project did not write), for the GStreamer engine's checksum sink to be compared with.
#
#   per track: the frame count and the SHA-256 over the decoded output in order: video as
#   tightly packed I420 (ffmpeg's yuv420p rawvideo), audio as F32LE interleaved. The per-frame
#   MD5s (ffmpeg -f framemd5) are in decoded.framemd5, to find the first frame that differs.
#
# The AAC track's edit list is ignored (-ignore_editlist 1): the demo pushes every sample,
# the encoder's priming frame included, and GStreamer decodes all of them; with the edit list
# ffmpeg drops the first 1024 samples per channel. Decoding is exact for H.264 and for AAC as
# F32 (S16 would differ by rounding between decoders), so any ffmpeg build gives these values.
set -euo pipefail
cd "$(dirname "$0")"

decode() { # <stream> <extra args...>: the stream decoded to rawvideo / f32le on stdout
  local stream=$1
  shift
  ffmpeg -hide_banner -loglevel error -ignore_editlist 1 -i clip.mp4 -map "0:$stream" "$@" -
}
video_sha=$(decode v -pix_fmt yuv420p -f rawvideo | sha256sum | cut -d ' ' -f 1)
audio_sha=$(decode a -c:a pcm_f32le -f f32le | sha256sum | cut -d ' ' -f 1)
ffmpeg -hide_banner -loglevel error -ignore_editlist 1 -i clip.mp4 -map 0:v -map 0:a \
  -pix_fmt yuv420p -c:a pcm_f32le -f framemd5 decoded.framemd5
video_frames=$(grep -c '^0,' decoded.framemd5)
audio_frames=$(grep -c '^1,' decoded.framemd5)
version=$(ffmpeg -hide_banner -version | head -n 1 | cut -d ' ' -f 3)

cat >decoded.json <<JSON
{
  "file": "clip.mp4",
  "madeWith": "ffmpeg $version",
  "video": { "format": "I420", "frames": $video_frames, "sha256": "$video_sha" },
  "audio": { "format": "F32LE", "frames": $audio_frames, "sha256": "$audio_sha" }
}
JSON
