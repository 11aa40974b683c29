/** A loose guard on checker speed (the figures are printed by `npm run bench:check`). */
import { describe, expect, it } from "vitest";
import { checkSource } from "../../src/check/index.js";
import { generateLargeSpec } from "../../bench/check-speed.js";

describe("checker speed", () => {
  it("checks a generated 1 MB spec in under 10 s, cleanly", () => {
    const { text, stages } = generateLargeSpec(1 << 20);
    expect(text.length).toBeGreaterThan(1_000_000);
    const start = performance.now();
    const result = checkSource(text, "big.mex");
    const seconds = (performance.now() - start) / 1000;
    expect(result.diagnostics).toEqual([]);
    expect(result.ir!.stages.length).toBe(stages);
    expect(seconds).toBeLessThan(10);
  });
});
