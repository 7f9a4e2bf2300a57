#!/usr/bin/env bash
# Encrypts the demo clip (../clip.mp4, made by ../make-clip.sh) with Common Encryption 'cenc'
# (AES-128-CTR, 8-byte per-sample IVs, H.264 subsamples) for the ClearKey demo, and writes the key
# material beside it. ffmpeg is a tool for this script only, not a project dependency: the
# outputs are committed, and the tests read them.
#
#   clip-cenc.mp4  the same samples as clip.mp4 (-c copy), encrypted; encv/enca sample entries with
#                  sinf/tenc, per-sample IVs and subsamples in senc (+ saiz/saio). No pssh box:
#                  ffmpeg does not write one, so key.json carries ready-made init data.
#   key.json       key id and key (hex), the ClearKey license (JWK set), and init data for
#                  generateRequest: "keyids" JSON and a "cenc" pssh box (version 1, common
#                  system id 1077efec-c0b2-4d02-ace3-3c1e52e2fb4b) as base64.
#
# Not deterministic: ffmpeg draws the first IV at random, so each run gives other bytes (the
# decrypted samples stay the same). The script checks, with ffmpeg's own decryption, that every
# track decrypts to the checksums recorded in ../clip.json.
set -euo pipefail
cd "$(dirname "$0")"

kid=3bf72d64a7f23df8027971da1e52fdc2
key=a50acccf554d55ba24ca2497be0671c9

ffmpeg -hide_banner -loglevel error -y -i ../clip.mp4 -map 0 -c copy \
  -encryption_scheme cenc-aes-ctr -encryption_key "$key" -encryption_kid "$kid" \
  -fflags +bitexact -map_metadata -1 -movflags +faststart clip-cenc.mp4

# "<index>,<type letter>,SHA256=<hex>" per stream, after decryption, must equal clip.json's.
decrypted=$(ffmpeg -hide_banner -loglevel error -decryption_key "$key" -i clip-cenc.mp4 \
  -map 0 -c copy -f streamhash -hash sha256 - | sed 's/.*SHA256=//')
expected=$(grep -o '"sha256": "[0-9a-f]*"' ../clip.json | cut -d '"' -f 4)
if [[ "$decrypted" != "$expected" ]]; then
  echo "make-encrypted-clip.sh: decrypted checksums differ from ../clip.json" >&2
  exit 1
fi

hex_to_base64() { xxd -r -p | base64 -w 0; }
hex_to_base64url() { hex_to_base64 | tr '+/' '-_' | tr -d '='; }
kid64=$(hex_to_base64url <<<"$kid")
key64=$(hex_to_base64url <<<"$key")
# pssh v1: size 52, "pssh", version 1 + flags 0, system id, KID_count 1, the kid, DataSize 0.
pssh=$(hex_to_base64 <<<"00000034""70737368""01000000""1077efecc0b24d02ace33c1e52e2fb4b""00000001""${kid}""00000000")

cat >key.json <<JSON
{
  "file": "clip-cenc.mp4",
  "clearFile": "../clip.mp4",
  "scheme": "cenc",
  "keyId": "$kid",
  "key": "$key",
  "license": {
    "keys": [{ "kty": "oct", "kid": "$kid64", "k": "$key64" }]
  },
  "keyIdsInitData": { "kids": ["$kid64"] },
  "cencInitData": "$pssh"
}
JSON

echo "clip-cenc.mp4: $(wc -c <clip-cenc.mp4) bytes; key.json:"
cat key.json
