/** Writes small IDX datasets into temp directories for the data tests. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { encodeIdx } from "../../src/data/idx.js";

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "mex-data-"));
}

export function writeIdx(dir: string, name: string, dims: number[], data: Uint8Array, gzip: boolean): string {
  const bytes = encodeIdx(dims, data);
  const path = join(dir, gzip ? `${name}.gz` : name);
  writeFileSync(path, gzip ? gzipSync(bytes) : bytes);
  return path;
}

/**
 * A tiny IDX dataset of `h`x`w` images. Example i has label i % classes and every pixel equal
 * to (i * 7 + p) % 256 for pixel p, so values are known exactly.
 */
export function writeTinyDataset(
  dir: string,
  opts: { h: number; w: number; classes: number; train: number; test: number; gzip: boolean },
): void {
  const part = (prefix: string, count: number): void => {
    const pixels = opts.h * opts.w;
    const images = new Uint8Array(count * pixels);
    for (let i = 0; i < count; i++) for (let p = 0; p < pixels; p++) images[i * pixels + p] = (i * 7 + p) % 256;
    const labels = Uint8Array.from({ length: count }, (_, i) => i % opts.classes);
    writeIdx(dir, `${prefix}-images-idx3-ubyte`, [count, opts.h, opts.w], images, opts.gzip);
    writeIdx(dir, `${prefix}-labels-idx1-ubyte`, [count], labels, opts.gzip);
  };
  part("train", opts.train);
  part("t10k", opts.test);
}
