// Writes the golden values of an MP4 as ffprobe reads it (stdout, JSON): per track its codec,
// audio/video parameters, and every packet in decode order (size, pts, dts, flags, SHA-256),
// plus two checksums: over all packets in decode order (what `ffmpeg -f streamhash` gives) and
// over the presented packets (not flagged D(iscard)) in pts order (what a renderer that clips
// priming samples outputs). Packet bytes are read at the positions ffprobe gives, so nothing
// here depends on the project's demuxer. Used by make-clip.sh and test-clips/make-test-clips.sh.
//
//   bun make-golden.ts FILE.mp4 > FILE.golden.json
import { basename } from "node:path";

interface Packet {
  stream_index: number;
  pts?: number;
  dts?: number;
  size: string;
  pos: string;
  flags: string;
}
interface Stream {
  index: number;
  id: string;
  codec_type: string;
  codec_name: string;
  time_base: string;
  sample_rate?: string;
  channels?: number;
  width?: number;
  height?: number;
}

const path = process.argv[2];
if (path === undefined) throw new Error("usage: bun make-golden.ts FILE.mp4");
const probe = Bun.spawnSync([
  "ffprobe",
  "-v",
  "error",
  "-show_entries",
  "stream=index,id,codec_type,codec_name,time_base,sample_rate,channels,width,height:packet=stream_index,pts,dts,size,pos,flags",
  "-of",
  "json",
  path,
]);
if (probe.exitCode !== 0) throw new Error(`ffprobe failed: ${probe.stderr.toString()}`);
const { streams, packets } = JSON.parse(probe.stdout.toString()) as {
  streams: Stream[];
  packets: Packet[];
};
const bytes = await Bun.file(path).bytes();
const version = Bun.spawnSync(["ffprobe", "-version"]).stdout.toString().split(" ")[2];
const sha256 = (parts: Uint8Array[]) => {
  const hasher = new Bun.CryptoHasher("sha256");
  for (const part of parts) hasher.update(part);
  return hasher.digest("hex");
};

const tracks = streams.map((stream) => {
  const own = packets
    .filter((p) => p.stream_index === stream.index)
    .map((p) => {
      const at = Number(p.pos);
      return { ...p, data: bytes.subarray(at, at + Number(p.size)) };
    });
  const presented = own
    .filter((p) => !p.flags.includes("D"))
    .toSorted((a, b) => (a.pts ?? 0) - (b.pts ?? 0));
  return {
    id: Number.parseInt(stream.id, 16),
    type: stream.codec_type,
    codec: stream.codec_name,
    timescale: Number(stream.time_base.split("/")[1]),
    ...(stream.codec_type === "audio"
      ? { sampleRate: Number(stream.sample_rate), channels: stream.channels }
      : { width: stream.width, height: stream.height }),
    samples: own.length,
    sha256: sha256(own.map((p) => p.data)),
    presentedSamples: presented.length,
    presentedSha256: sha256(presented.map((p) => p.data)),
    // [size, pts, dts, flags, sha256] per packet, decode order.
    packets: own.map((p) => [
      Number(p.size),
      p.pts ?? null,
      p.dts ?? null,
      p.flags,
      sha256([p.data]),
    ]),
  };
});
console.log(
  JSON.stringify({ file: basename(path), madeWith: `ffprobe ${version}`, tracks }, null, 1).replace(
    /\[\n\s+(\d+),\n\s+(-?\d+|null),\n\s+(-?\d+|null),\n\s+("[^"]*"),\n\s+("[0-9a-f]+")\n\s+\]/g,
    "[$1, $2, $3, $4, $5]",
  ),
);
