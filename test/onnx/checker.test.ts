/**
 * The official ONNX checker (python onnx, full_check=True) on exported files: every spec, both forms.
 * Skipped, with a message, when /usr/bin/python3 has no onnx package (Debian: python3-onnx).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportOnnx } from "../../src/backends/onnx/index.js";
import { buildModel } from "../../src/backends/tfjs/build.js";
import { extractWeights } from "../../src/backends/tfjs/weights.js";
import { irOf } from "./helpers.js";

const PYTHON = "/usr/bin/python3";
const hasOnnx = spawnSync(PYTHON, ["-c", "import onnx"], { stdio: "ignore" }).status === 0;
if (!hasOnnx) console.warn(`skipping the ONNX checker test: ${PYTHON} -c "import onnx" failed (install python3-onnx)`);

let dir: string;
beforeAll(async () => {
  await tf.setBackend("cpu");
  dir = mkdtempSync(join(tmpdir(), "mex-onnx-check-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasOnnx)("onnx.checker.check_model(full_check=True)", () => {
  it("accepts the multi-exit and early-exit exports of every spec (opsets 13 and 17)", () => {
    const specs = [...readdirSync("specs").filter((f) => f.endsWith(".mex")).map((f) => join("specs", f)), "test/onnx/coverage.mex"];
    const files: string[] = [];
    for (const spec of specs) {
      const ir = irOf(spec);
      const weights = extractWeights(buildModel(ir, { seed: 0 }));
      const thresholds = ir.exits.map((_, m) => (m === 1 ? Number.POSITIVE_INFINITY : m === ir.exits.length - 1 ? 0 : 0.5));
      for (const opset of [13, 17]) {
        const base = join(dir, `${ir.name}-${opset}`);
        writeFileSync(`${base}.onnx`, exportOnnx(ir, weights, { producerVersion: "test", opset }));
        writeFileSync(`${base}-early.onnx`, exportOnnx(ir, weights, { producerVersion: "test", opset, earlyExit: { thresholds } }));
        files.push(`${base}.onnx`, `${base}-early.onnx`);
      }
    }
    const result = spawnSync(PYTHON, ["bench/peers/onnx_check.py", ...files], { encoding: "utf8" });
    expect(result.stdout.split("\n").filter((l) => l.startsWith("FAIL"))).toEqual([]);
    expect(result.status).toBe(0);
    expect(result.stdout.split("\n").filter((l) => l.startsWith("ok "))).toHaveLength(files.length);
  });

  it("reports a broken file", () => {
    const bad = join(dir, "broken.onnx");
    writeFileSync(bad, "not a model");
    const result = spawnSync(PYTHON, ["bench/peers/onnx_check.py", bad], { encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^FAIL /);
  });
});

