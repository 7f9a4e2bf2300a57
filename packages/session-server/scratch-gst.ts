import { loadGstreamer, GstState } from "./src/media/gstreamer/gst-ffi.ts";
import { demuxMp4File } from "../../apps/demo-app/src/mp4/index.ts";
const gst = loadGstreamer();
console.log(gst.version, gst.hasElement("avdec_h264"), gst.hasElement("nosuch"));
const movie = await demuxMp4File(process.argv[2] ?? "../../apps/demo-app/media/clip.mp4");
const v = movie.tracks.find((t) => t.type === "video")!;
const hex = Buffer.from(v.codecData).toString("hex");
const p = gst.parseLaunch(`appsrc name=src format=time stream-type=seekable emit-signals=false caps="video/x-h264,stream-format=avc,alignment=au,codec_data=(buffer)${hex}" ! avdec_h264 max-errors=0 ! videoconvert ! video/x-raw,format=I420 ! appsink name=sink sync=false emit-signals=false max-buffers=64`);
const src = gst.child(p, "src"); const sink = gst.child(p, "sink");
gst.makeSeekable(src);
console.log("set", gst.setState(p, GstState.Playing));
for (const s of v.samples) gst.pushBuffer(src, s.data, s.timestampNs, s.durationNs);
gst.endOfStream(src);
const bus = gst.bus(p);
const md5s: string[] = [];
let done = false;
const t0 = performance.now();
while (!done) {
  for (let m = gst.popMessage(bus); m; m = gst.popMessage(bus)) { if (m.type === "eos" || m.type === "error") { console.log(m); done = true; } }
  for (let s = gst.pullSample(sink); s; s = gst.pullSample(sink)) { md5s.push(new Bun.CryptoHasher("md5").update(s.bytes).digest("hex")); s.release(); }
  await Bun.sleep(1);
}
console.log("frames", md5s.length, (performance.now()-t0).toFixed(0), "ms");
await Bun.write("/tmp/gsttry/ours.txt", md5s.join("\n") + "\n");
gst.setState(p, GstState.Null); gst.unref(src); gst.unref(sink); gst.unref(bus); console.log("ref", gst.refCount(p)); gst.unref(p);
