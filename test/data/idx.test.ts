import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DataError } from "../../src/data/errors.js";
import { DEFAULT_FASHION_MNIST_DIR, encodeIdx, findIdxFile, parseIdx, readIdx, readIdxPart } from "../../src/data/idx.js";
import { tempDir, writeIdx, writeTinyDataset } from "./fixtures.js";

function expectDataError(fn: () => unknown, ...fragments: string[]): DataError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DataError);
  const error = caught as DataError;
  for (const fragment of fragments) expect(error.message).toContain(fragment);
  return error;
}

describe("IDX encoding", () => {
  it("writes the header by hand-checkable bytes", () => {
    const bytes = encodeIdx([2, 3], Uint8Array.from([1, 2, 3, 4, 5, 6]));
    expect(Array.from(bytes)).toEqual([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]);
  });
});

describe("readIdx", () => {
  const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 11) % 256);

  for (const gzip of [false, true]) {
    it(`round-trips a ${gzip ? "gzip" : "raw"} file`, () => {
      const dir = tempDir();
      const file = writeIdx(dir, "x-idx3-ubyte", [2, 3, 4], data, gzip);
      const read = readIdx(file);
      expect(read.dims).toEqual([2, 3, 4]);
      expect(Array.from(read.data)).toEqual(Array.from(data));
      expect(read.file).toBe(file);
    });
  }

  it("rejects a truncated payload, naming expected and found byte counts", () => {
    const bytes = encodeIdx([2, 3, 4], data).subarray(0, 16 + 20);
    const error = expectDataError(() => parseIdx(bytes, "cut.idx"), "cut.idx", "[2, 3, 4]", "need 24 payload bytes, found 20", "truncated");
    expect(error.file).toBe("cut.idx");
  });

  it("rejects trailing bytes", () => {
    const bytes = new Uint8Array([...encodeIdx([2], Uint8Array.from([1, 2])), 9]);
    expectDataError(() => parseIdx(bytes, "long.idx"), "need 2 payload bytes, found 3", "trailing");
  });

  it("rejects a truncated header", () => {
    expectDataError(() => parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 1]), "h.idx"), "3 dimensions need 16 header bytes, found 8");
    expectDataError(() => parseIdx(Uint8Array.from([0, 0]), "h.idx"), "expected at least 4 bytes, found 2");
  });

  it("rejects a wrong magic, showing the bytes found", () => {
    expectDataError(() => parseIdx(Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0]), "zip.idx"), "zip.idx", "not an IDX file", "found 50 4b 03 04");
  });

  it("rejects non-ubyte data types", () => {
    expectDataError(() => parseIdx(Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 0]), "f.idx"), "0x0d (float32) is not supported", "expected 0x08");
  });

  it("rejects garbled gzip", () => {
    const dir = tempDir();
    const gz = gzipSync(encodeIdx([4], Uint8Array.from([1, 2, 3, 4])));
    const file = join(dir, "bad.gz");
    writeFileSync(file, gz.subarray(0, gz.length - 6));
    expectDataError(() => readIdx(file), file, "gzip data is corrupt or truncated");
  });

  it("names an unreadable file", () => {
    expectDataError(() => readIdx("/nonexistent/dir/file"), "cannot read /nonexistent/dir/file");
  });
});

describe("IDX dataset parts", () => {
  it("finds raw and gz files by their standard names and cross-checks them", () => {
    const dir = tempDir();
    writeTinyDataset(dir, { h: 4, w: 5, classes: 3, train: 9, test: 6, gzip: true });
    expect(findIdxFile(dir, "train-images-idx3-ubyte")).toBe(join(dir, "train-images-idx3-ubyte.gz"));
    const part = readIdxPart(dir, "test");
    expect(part.count).toBe(6);
    expect(part.shape).toEqual([4, 5, 1]);
    expect(Array.from(part.labels)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(part.images[20 * 2 + 3]).toBe(2 * 7 + 3);
  });

  it("reports a label/image count mismatch", () => {
    const dir = tempDir();
    writeIdx(dir, "train-images-idx3-ubyte", [3, 2, 2], new Uint8Array(12), false);
    writeIdx(dir, "train-labels-idx1-ubyte", [2], new Uint8Array(2), false);
    expectDataError(() => readIdxPart(dir, "train"), "has 2 labels but", "has 3 images");
  });

  it("reports a missing file by name", () => {
    const dir = tempDir();
    writeIdx(dir, "train-images-idx3-ubyte", [1, 2, 2], new Uint8Array(4), false);
    const error = expectDataError(() => readIdxPart(dir, "train"), "missing train-labels-idx1-ubyte (or train-labels-idx1-ubyte.gz) in " + dir);
    expect(error.message).not.toContain("apt-get");
  });

  it("points to the Debian package for the default Fashion-MNIST directory", () => {
    expectDataError(() => findIdxFile(DEFAULT_FASHION_MNIST_DIR, "no-such-idx1-ubyte"), "apt-get install dataset-fashion-mnist");
  });

  it("rejects a label file with the wrong rank", () => {
    const dir = tempDir();
    writeIdx(dir, "train-images-idx3-ubyte", [2, 2, 2], new Uint8Array(8), false);
    writeIdx(dir, "train-labels-idx1-ubyte", [2, 1], new Uint8Array(2), false);
    expectDataError(() => readIdxPart(dir, "train"), "a label file needs 1 dimension [count], found [2, 1]");
  });
});
