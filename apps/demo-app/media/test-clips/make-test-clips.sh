#!/usr/bin/env bash
# Makes the demuxer's test clips with ffmpeg and their golden values with ffprobe
# (../make-golden.ts): small files (about 1 s, tiny pictures) with the traits real packagers
# write, so that `bun run test` checks the demuxer against an independent reader without the
# shared real-world files. ffmpeg is a tool for this script only: the clips and the
# *.golden.json files are committed, and the tests read them.
#
#   h264-bframes-aac-mono.mp4  progressive (moov last); H.264 High with B-frames (ctts) and its
#                              edit list;
#                              AAC-LC mono with its priming edit list (1 sample before 0)
#   hevc-bframes.mp4           progressive HEVC (hvc1) with B-frames and an edit list
#   fmp4-multitrun.mp4         fragmented A/V (a fragment per 5 frames), video and audio
#                              interleaved by 3 samples inside each fragment, so each traf has
#                              several trun boxes with their own data offsets
#   fmp4-sidx-audio.mp4        fragmented AAC-LC stereo with a sidx
#   dash-init-segments.mp4     ffmpeg's DASH muxer: init segment + media segments concatenated
#   opus-ac3-eac3-aac.mp4      four audio tracks: Opus (pre-skip edit list), AC-3 stereo, E-AC-3
#                              5.1, AAC-LC 5.1
#   cbcs-1-9.mp4, cbcs-2-8.mp4 h264-bframes-aac-mono.mp4 encrypted cbcs (constant IV, senc +
#                              saiz/saio in stbl), patterns 1:9 (a PlayReady-only pssh) and 2:8
#                              (no pssh); video protected ranges end in one full block past the
#                              last whole pattern, the case a 2:8 decryptor must leave clear
#   fmp4-cenc-clear-lead.mp4   fmp4-multitrun.mp4 encrypted cenc: per-fragment senc/saiz/saio,
#                              the first fragment clear (a second, clear sample entry, after the
#                              encrypted one as Shaka Packager writes them), common pssh
#   fmp4-cbcs-2-8.mp4          fmp4-multitrun.mp4 encrypted cbcs 2:8, a PlayReady-only pssh
#   keys.json                  their key (a ClearKey JWK set)
#
# Deterministic; another ffmpeg build may give other bytes: then commit the new clips with
# their golden files.
set -euo pipefail
cd "$(dirname "$0")"
common=(-hide_banner -loglevel error -y)
out=(-fflags +bitexact -map_metadata -1)
video=(-f lavfi -i testsrc2=size=96x64:rate=15)
tone() { echo "-f lavfi -i sine=frequency=$1:sample_rate=48000"; }
x264=(-c:v libx264 -profile:v high -pix_fmt yuv420p -g 15 -bf 2 -threads 1 -flags:v +bitexact)

# shellcheck disable=SC2046
ffmpeg "${common[@]}" "${video[@]}" $(tone 440) -t 1 -map 0:v -map 1:a \
  "${x264[@]}" -c:a aac -b:a 48k -ac 1 -flags:a +bitexact \
  "${out[@]}" h264-bframes-aac-mono.mp4

ffmpeg "${common[@]}" "${video[@]}" -t 1 -c:v libx265 -tag:v hvc1 -pix_fmt yuv420p \
  -x265-params "bframes=2:keyint=15:pools=1:frame-threads=1:log-level=error" \
  "${out[@]}" hevc-bframes.mp4

# shellcheck disable=SC2046
ffmpeg "${common[@]}" "${video[@]}" $(tone 330) -t 1 -map 0:v -map 1:a \
  "${x264[@]}" -g 5 -c:a aac -b:a 48k -ac 2 -flags:a +bitexact \
  -movflags +frag_keyframe+empty_moov+default_base_moof -frag_interleave 3 \
  "${out[@]}" fmp4-multitrun.mp4

# shellcheck disable=SC2046
ffmpeg "${common[@]}" $(tone 550) -t 1 -c:a aac -b:a 48k -ac 2 -flags:a +bitexact \
  -movflags +frag_keyframe+empty_moov+default_base_moof+global_sidx -frag_duration 300000 \
  "${out[@]}" fmp4-sidx-audio.mp4

dash=$(mktemp -d)
trap 'rm -rf "$dash"' EXIT
rm -f fmp4-cenc.mp4 fmp4-cbcs-1-9.mp4 ./*.decrypted.golden.json
ffmpeg "${common[@]}" "${video[@]}" -t 1 "${x264[@]}" -g 5 -f dash -seg_duration 0.4 \
  -use_template 1 -use_timeline 0 -init_seg_name 'init.m4s' -media_seg_name 'seg-$Number$.m4s' \
  "${out[@]}" "$dash/stream.mpd"
cat "$dash/init.m4s" "$dash"/seg-?.m4s >dash-init-segments.mp4

# shellcheck disable=SC2046
ffmpeg "${common[@]}" $(tone 220) $(tone 660) -t 0.5 \
  -map 0:a -map 0:a -map 1:a -map 1:a \
  -c:a:0 libopus -b:a:0 32k -ac:a:0 2 \
  -c:a:1 ac3 -b:a:1 96k -ac:a:1 2 \
  -c:a:2 eac3 -b:a:2 192k -ac:a:2 6 \
  -c:a:3 aac -b:a:3 96k -ac:a:3 6 -flags:a +bitexact \
  "${out[@]}" opus-ac3-eac3-aac.mp4

for clip in h264-bframes-aac-mono hevc-bframes fmp4-multitrun fmp4-sidx-audio \
  dash-init-segments opus-ac3-eac3-aac; do
  bun ../make-golden.ts "$clip.mp4" >"$clip.golden.json"
done

# Encrypted twins of two clear clips, made by encrypt-mp4.ts (ffmpeg 5.1 writes neither cbcs
# nor valid encrypted fragments). The progressive ones must decrypt with ffmpeg's own
# decryption (-decryption_key) to exactly the clear clip's packets, or the script stops. ffmpeg
# 5.1 cannot read the fragmented ones (it pairs their senc entries with the samples of another
# fragment: "Incorrect number of samples in encryption info", with or without mfra, one or
# several truns), so they are checked against their clear twin only, with the same sample
# encryption code as the progressive ones.
kid=7e571d017e571d017e571d017e571d01
key=00112233445566778899aabbccddeeff
encrypt() { bun encrypt-mp4.ts "$1" "$2" --kid "$kid" --key "$key" "${@:3}"; }
encrypt h264-bframes-aac-mono.mp4 cbcs-1-9.mp4 --scheme cbcs --pattern 1:9 --pssh playready
encrypt h264-bframes-aac-mono.mp4 cbcs-2-8.mp4 --scheme cbcs --pattern 2:8 --pssh none
encrypt fmp4-multitrun.mp4 fmp4-cenc-clear-lead.mp4 --scheme cenc --clear-lead --pssh common
encrypt fmp4-multitrun.mp4 fmp4-cbcs-2-8.mp4 --scheme cbcs --pattern 2:8 --pssh playready
clear_hashes=$(grep -o '"sha256": "[0-9a-f]*"' h264-bframes-aac-mono.golden.json)
for clip in cbcs-1-9 cbcs-2-8; do
  ffmpeg "${common[@]}" -decryption_key "$key" -i "$clip.mp4" -map 0 -c copy "${out[@]}" "$dash/$clip.mp4"
  if [[ "$(bun ../make-golden.ts "$dash/$clip.mp4" | grep -o '"sha256": "[0-9a-f]*"')" != "$clear_hashes" ]]; then
    echo "make-test-clips.sh: ffmpeg's decryption of $clip.mp4 differs from h264-bframes-aac-mono.mp4" >&2
    exit 1
  fi
done

hex_to_base64url() { xxd -r -p | base64 -w 0 | tr '+/' '-_' | tr -d '='; }
cat >keys.json <<JSON
{
  "keys": [
    { "kty": "oct", "kid": "$(hex_to_base64url <<<"$kid")", "k": "$(hex_to_base64url <<<"$key")" }
  ]
}
JSON
(cd ../../../.. && bun x biome format --write apps/demo-app/media/test-clips >/dev/null)
ls -l ./*.mp4
