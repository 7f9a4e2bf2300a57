import { describe, expect, it } from "bun:test";
import { fileURLToPath } from "node:url";
import { createSessionServerLogger, LOG_LEVEL_VALUES } from "./logger.ts";

const LOGGER = fileURLToPath(new URL("./logger.ts", import.meta.url));

/** A logger writing into `lines` (parsed JSON). */
function capturing(level: "info" | "warn" | "debug" = "info") {
  const lines: Record<string, unknown>[] = [];
  const logger = createSessionServerLogger({
    level,
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  return { logger, lines };
}

describe("createSessionServerLogger", () => {
  it("writes pino lines with the name, pid and the bindings and level set before its first line", () => {
    const { logger, lines } = capturing("info");
    logger.setBindings({ appId: "app-1" });
    logger.level = "warn";
    logger.info({ skipped: true }, "not at warn");
    logger.warn({ port: 7 }, "first line");
    logger.level = "debug";
    logger.debug("now at debug");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: LOG_LEVEL_VALUES.warn,
      name: "rialto-session-server",
      pid: process.pid,
      appId: "app-1",
      port: 7,
      msg: "first line",
    });
    expect(lines[1]).toMatchObject({ level: LOG_LEVEL_VALUES.debug, msg: "now at debug" });
    expect(logger.level).toBe("debug");
  });

  it("serialises errors as pino does", () => {
    const { logger, lines } = capturing();
    logger.error({ err: new Error("boom") }, "failed");
    expect(lines[0]).toMatchObject({ msg: "failed", err: { type: "Error", message: "boom" } });
  });

  it("loads pino only for a line that passes its level and is more than plain fields", async () => {
    // A fresh process: this test runner has pino loaded already.
    const script = `
      const { createSessionServerLogger } = require(${JSON.stringify(LOGGER)});
      const pinoLoaded = () => Object.keys(require.cache).some((path) => /[\\\\/]pino[\\\\/]/.test(path));
      const logger = createSessionServerLogger({ level: "warn" });
      logger.info("quiet");
      logger.setBindings({ appId: "a" });
      logger.error({ port: 7 }, "loud");
      const plain = pinoLoaded();
      logger.error({ err: new Error("boom") }, "failed");
      console.log(JSON.stringify({ plain, after: pinoLoaded() }));
    `;
    const child = Bun.spawn([process.execPath, "-e", script], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ plain: false, after: true });
    const lines = stderr
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: LOG_LEVEL_VALUES.error,
      appId: "a",
      port: 7,
      msg: "loud",
    });
    expect(lines[1]).toMatchObject({ appId: "a", err: { message: "boom" }, msg: "failed" });
  });
});
