import { describe, expect, it } from "bun:test";
import { parseHttpAddress } from "./http-address.ts";

describe("--http addresses", () => {
  it("listens on 127.0.0.1 for a bare port, and on a loopback address as given", () => {
    expect(parseHttpAddress("9464", false)).toEqual({ hostname: "127.0.0.1", port: 9464 });
    expect(parseHttpAddress("127.0.0.2:0", false)).toEqual({ hostname: "127.0.0.2", port: 0 });
    expect(parseHttpAddress("[::1]:8080", false)).toEqual({ hostname: "::1", port: 8080 });
  });

  it("refuses a non-loopback address unless remote access is asked for", () => {
    expect(() => parseHttpAddress("0.0.0.0:9464", false)).toThrow(
      "--http 0.0.0.0:9464 is not a loopback address; add --http-allow-remote",
    );
    expect(() => parseHttpAddress("[::]:9464", false)).toThrow("not a loopback address");
    expect(parseHttpAddress("0.0.0.0:9464", true)).toEqual({ hostname: "0.0.0.0", port: 9464 });
  });

  it("refuses what is not an address and port", () => {
    for (const bad of ["", "x", "localhost:80", "1.2.3:80", "70000", "127.0.0.1:", ":80"]) {
      expect(() => parseHttpAddress(bad, false)).toThrow("--http");
    }
  });
});
