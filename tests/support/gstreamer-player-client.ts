// A client process for the GStreamer teardown tests: connects to the session server at argv[2],
// goes Running, plays the demo clip on a pipeline (decode order), holds its data at the middle,
// prints one JSON line `{pipelineId}` once every feeder holds, then stays until it is killed
// (a client that dies mid-stream without releasing anything).
import { RialtoClient } from "@rialto/client";
import { ClipPlayer } from "../../apps/demo-app/src/clip-player.ts";
import { loadDemoClip } from "../../apps/demo-app/src/mp4/index.ts";

const socketPath = process.argv[2];
const client = await RialtoClient.connect({ socketPath });
await client.setApplicationState("Running");
const movie = await loadDemoClip();
const player = await ClipPlayer.open(client, movie, { decodeOrder: true });
for (const feeder of player.feeders) feeder.holdAt(movie.durationNs / 2);
await player.play();
while (!player.feeders.every((f) => f.holding)) await Bun.sleep(5);
console.log(JSON.stringify({ pipelineId: player.pipeline.id }));
setInterval(() => {}, 60_000);
