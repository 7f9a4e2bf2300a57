// A session server that starts and never sends its first message (the READY-timeout case the
// real session server cannot produce). It keeps its control channel (fd 3) open and idles.
setInterval(() => {}, 60_000);
