/** Small IDX datasets and specs on disk for the reliability tests. */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { encodeIdx, idxStem } from "../../src/data/idx.js";
import { ROOT } from "../helpers/cli.js";

export const CLASSES = 4;
export const SIZE = 16;
export const TRAIN_PER_CLASS = 12;
export const TEST_PER_CLASS = 5;

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    out[i] = a >>> 24;
  }
  return out;
}

/** Writes the four standard IDX files (16x16 images, 4 classes, labels cycling 0..3) into `dir`. */
export function writeIdxDataset(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const [part, perClass] of [["train", TRAIN_PER_CLASS], ["test", TEST_PER_CLASS]] as const) {
    const count = perClass * CLASSES;
    const labels = Uint8Array.from({ length: count }, (_, i) => i % CLASSES);
    writeFileSync(path.join(dir, idxStem(part, "images")), encodeIdx([count, SIZE, SIZE], bytes(count * SIZE * SIZE, count)));
    writeFileSync(path.join(dir, idxStem(part, "labels")), encodeIdx([count], labels));
  }
}

/** quickstart.mex reading `idx(dir=dataDir)`, one epoch, with `out` when given (paths as written in the spec). */
export function idxSpec(dataDir: string, out: string | null, epochs = 1): string {
  const text = readFileSync(path.join(ROOT, "specs/quickstart.mex"), "utf8")
    .replace(/data: synthetic\([^)]*\)/, `data: idx(dir=${JSON.stringify(dataDir)}, per_class=${TRAIN_PER_CLASS}, val_per_class=2, test_per_class=${TEST_PER_CLASS})${out === null ? "" : `\n    out: ${JSON.stringify(out)}`}`)
    .replace(/epochs: \d+/, `epochs: ${epochs}`);
  if (!text.includes("idx(dir=")) throw new Error("quickstart.mex changed: the data line was not found");
  return text;
}
