import { describe, expect, it } from "bun:test";
import { DESCRIBE_MAX_LENGTH, describeValue } from "./describe-value.ts";

describe("describeValue", () => {
  it("prints small values as JSON", () => {
    expect(describeValue("abc")).toBe('"abc"');
    expect(describeValue({ a: [1, true, null] })).toBe('{"a":[1,true,null]}');
    expect(describeValue(undefined)).toBe("undefined");
    expect(describeValue(12n)).toBe("12n");
  });

  it("cuts long text to the maximum with an ellipsis", () => {
    const text = describeValue("x".repeat(10_000_000));
    expect(text.length).toBe(DESCRIBE_MAX_LENGTH);
    expect(text.endsWith("...")).toBe(true);
  });

  it("describes 60,000 nested arrays quickly without overflowing the stack", () => {
    const deep = JSON.parse(`${"[".repeat(60_000)}${"]".repeat(60_000)}`);
    const started = performance.now();
    expect(describeValue(deep)).toBe("[[[[[…]]]]]");
    expect(performance.now() - started).toBeLessThan(50);
  });

  it("looks at a few entries of a huge array or object only", () => {
    const wide = Array.from({ length: 1_000_000 }, (_, i) => i);
    const object = Object.fromEntries(wide.slice(0, 100_000).map((i) => [`k${i}`, i]));
    const started = performance.now();
    expect(describeValue(wide)).toBe("[0,1,2,3,4,5,6,7,…]");
    expect(describeValue(object).startsWith('{"k0":0,"k1":1')).toBe(true);
    expect(performance.now() - started).toBeLessThan(100);
  });

  it("never throws: cycles, throwing getters and proxies", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(describeValue(cyclic)).toBe('{"a":1,"self":<cycle>}');
    const getter = {
      get boom(): never {
        throw new Error("no");
      },
    };
    expect(describeValue(getter)).toContain("<unprintable>");
    const proxy = new Proxy(
      {},
      {
        ownKeys() {
          throw new RangeError("hostile");
        },
      },
    );
    expect(typeof describeValue(proxy)).toBe("string");
  });
});
