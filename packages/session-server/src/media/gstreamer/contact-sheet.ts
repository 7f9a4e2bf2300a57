/**
 * Environment variable of the session server: when set (to a file path), each GStreamer pipeline
 * with a `checksum` or `null` sink writes a PNG contact sheet of its decoded video there when it
 * reaches end of stream or is destroyed (a debugging aid: a picture a person can look at).
 */
export const SNAPSHOT_ENV = "RIALTO_GST_SNAPSHOT";
