/**
 * Resource bombs are rejected by the checker's resource guard (MEX4010/4011/4012) with the estimate in
 * the message, in milliseconds, without allocating anything of the model's size.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkSource } from "../../src/check/index.js";
import { ensureBuilt, mex, STACK_TRACE } from "../helpers/cli.js";

function spec(input: string, stage: string, head = "gap dense(classes)"): string {
  return `model bomb {\n  input ${input}\n  classes 10\n  backbone {\n    stage s1 { ${stage} }\n  }\n  exit e1 after s1 { ${head} }\n  train { data: synthetic() }\n}\n`;
}

/** name, spec, expected code, and a piece of the message or hint that carries the estimate. */
const BOMBS: { name: string; text: string; code: string; estimate: RegExp }[] = [
  { name: "repeat 1000000 { conv(8) }", text: spec("[32, 32, 3]", "repeat 1000000 { conv(8) }"), code: "MEX4012", estimate: /1,000,000 layers/ },
  { name: "nested repeats, 10^9 layers", text: spec("[32, 32, 3]", "repeat 1000 { repeat 1000 { repeat 1000 { relu } } }"), code: "MEX4012", estimate: /1,000,000,000 layers/ },
  // conv(10^9) with a 3x3 kernel on 3 channels: 27 * 10^9 weights + 10^9 biases + ... = 38.0G.
  { name: "conv(1000000000)", text: spec("[32, 32, 3]", "conv(1000000000)"), code: "MEX4010", estimate: /model has 38\.0G parameters, above the limit of 2\.15G/ },
  // 8 channels after gap -> dense(10^12): 8e12 weights + 1e12 biases; the exit's dense(10) on 10^12
  // features: 10e12 more. 19.0T in all (the conv's 224 are lost in the rounding).
  { name: "dense(1000000000000) after a gap", text: spec("[32, 32, 3]", "conv(8) gap dense(1000000000000)", "dense(classes)"), code: "MEX4010", estimate: /model has 19\.0T parameters, above the limit of 2\.15G/ },
  // 100000 * 100000 * 3 = 3e10 input values alone; conv(8) adds 8e10: 110G values per example.
  { name: "input [100000, 100000, 3]", text: spec("[100000, 100000, 3]", "conv(8)"), code: "MEX4011", estimate: /activations need 110G values per example, above the limit of 268M/ },
];

let tmp: string;
beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(path.join(tmpdir(), "mex-bombs-"));
  // Warm up the parser and checker so the timings below measure the guard, not module loading and JIT.
  for (let i = 0; i < 3; i++) checkSource(spec("[32, 32, 3]", "repeat 2 { conv(8) }"), "warm.mex");
}, 180_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("resource bombs", () => {
  for (const bomb of BOMBS) {
    it(`${bomb.name}: ${bomb.code} with the estimate, < 200 ms, < 50 MB of heap`, () => {
      globalThis.gc?.();
      const heapBefore = process.memoryUsage().heapUsed;
      const started = performance.now();
      const result = checkSource(bomb.text, "bomb.mex");
      const ms = performance.now() - started;
      const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
      const found = result.diagnostics.filter((d) => d.code === bomb.code);
      console.log(`${bomb.name}: ${ms.toFixed(1)} ms, heap +${(heapGrowth / 1e6).toFixed(1)} MB: ${found.map((d) => `${d.message} (${d.hint ?? ""})`).join("; ")}`);
      expect(result.ir).toBeNull();
      expect(found.length).toBeGreaterThan(0);
      expect(found.map((d) => `${d.message} ${d.hint ?? ""}`).join("\n")).toMatch(bomb.estimate);
      expect(ms).toBeLessThan(200);
      expect(heapGrowth).toBeLessThan(50 * 1024 * 1024);
    });
  }

  it("the limits are flags: --max-params raises the parameter limit, and the CLI rejects every bomb with exit 1", () => {
    const files = BOMBS.map((bomb, i) => {
      const file = path.join(tmp, `bomb${i}.mex`);
      writeFileSync(file, bomb.text);
      return file;
    });
    const run = mex(["check", ...files]);
    expect(run.stdout + run.stderr).not.toMatch(STACK_TRACE);
    expect(run.status).toBe(1);
    for (const bomb of BOMBS) expect(run.stdout).toContain(bomb.code);
    // A 2.4M-parameter dense layer passes the default guard but not --max-params 1000000.
    const small = path.join(tmp, "medium.mex");
    writeFileSync(small, spec("[32, 32, 3]", "conv(8) gap dense(300000)", "dense(classes)"));
    expect(mex(["check", small]).status).toBe(0);
    const limited = mex(["check", "--max-params", "1000000", small]);
    expect(limited.status).toBe(1);
    expect(limited.stdout).toContain("MEX4010");
  }, 60_000);
});
