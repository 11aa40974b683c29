/**
 * Paths in a spec (data dir, out) are resolved relative to the spec file, not the working directory;
 * `mex check` never reads data files (a FIFO in their place would block a reader forever) and writes
 * nothing (the working directory and the spec's directory stay exactly as they were).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkSource } from "../../src/check/index.js";
import { idxStem } from "../../src/data/idx.js";
import { ensureBuilt, mex, STACK_TRACE } from "../helpers/cli.js";
import { idxSpec, writeIdxDataset } from "./fixtures.js";

let tmp: string;
beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(path.join(tmpdir(), "mex-paths-"));
}, 180_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Every path under `dir` with its size and mtime: any write shows up as a difference. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .sort()
    .map((f) => {
      const s = statSync(path.join(dir, f));
      return `${f} ${s.size} ${s.mtimeMs}`;
    });
}

describe("paths", () => {
  it("the checker resolves idx(dir=...) and out against the spec's directory", () => {
    const spec = path.join(tmp, "nested", "deeper", "spec.mex");
    const ir = checkSource(idxSpec("data", "runs/x"), spec).ir!;
    expect(ir.train.data.kind === "idx" && ir.train.data.dir).toBe(path.join(tmp, "nested", "deeper", "data"));
    expect(ir.train.out).toBe(path.join(tmp, "nested", "deeper", "runs", "x"));
    // Absolute paths stay as written.
    const abs = checkSource(idxSpec("/srv/data", "/srv/runs/x"), spec).ir!;
    expect(abs.train.data.kind === "idx" && abs.train.data.dir).toBe("/srv/data");
    expect(abs.train.out).toBe("/srv/runs/x");
  });

  it("mex train from another working directory reads sub/data and writes sub/runs/x", () => {
    const project = path.join(tmp, "project");
    const sub = path.join(project, "sub");
    writeIdxDataset(path.join(sub, "data"));
    writeFileSync(path.join(sub, "spec.mex"), idxSpec("data", "runs/x"));
    const run = mex(["train", path.join("sub", "spec.mex"), "--no-progress"], { cwd: project });
    expect(run.stderr).not.toMatch(STACK_TRACE);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain(`idx ${path.join(sub, "data")}`);
    expect(existsSync(path.join(sub, "runs", "x", "model", "model.json"))).toBe(true);
    expect(existsSync(path.join(project, "runs"))).toBe(false);
    expect(readdirSync(project)).toEqual(["sub"]);
  }, 120_000);

  it("mex check does not need the data: a missing data directory still checks clean (exit 0)", () => {
    const dir = path.join(tmp, "no-data");
    mkdirSync(dir);
    writeFileSync(path.join(dir, "spec.mex"), idxSpec("does/not/exist", "runs/x"));
    const run = mex(["check", path.join(dir, "spec.mex")], { cwd: dir });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^ok: /m);
  });

  it("mex check reads no data file and writes nothing, in the working directory or next to the spec", () => {
    const cwd = path.join(tmp, "empty-cwd");
    mkdirSync(cwd);
    const specDir = path.join(tmp, "spec-dir");
    const data = path.join(specDir, "data");
    mkdirSync(data, { recursive: true });
    // FIFOs in place of the IDX files: opening one for reading blocks until a writer comes, which never happens.
    for (const part of ["train", "test"] as const) {
      for (const what of ["images", "labels"] as const) execFileSync("mkfifo", [path.join(data, idxStem(part, what))]);
    }
    writeFileSync(path.join(specDir, "spec.mex"), idxSpec("data", "runs/x"));
    const before = { cwd: snapshot(cwd), spec: snapshot(specDir) };
    for (const format of ["text", "json"]) {
      const run = mex(["check", "--format", format, path.join(specDir, "spec.mex")], { cwd, timeout: 30_000 });
      expect(run.error, `check --format ${format} hung or failed to start`).toBeUndefined();
      expect(run.status, `${format}: ${run.stderr}`).toBe(0);
    }
    const inspect = mex(["inspect", path.join(specDir, "spec.mex")], { cwd, timeout: 30_000 });
    expect(inspect.status, inspect.stderr).toBe(0);
    expect(snapshot(cwd)).toEqual(before.cwd);
    expect(snapshot(specDir)).toEqual(before.spec);
    expect(readdirSync(cwd)).toEqual([]);
  }, 120_000);
});
