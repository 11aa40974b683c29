/**
 * Reader (and, for tests and tools, writer) of IDX files: the format of MNIST and Fashion-MNIST.
 *
 * Layout: magic `00 00 <type> <ndims>`, then ndims big-endian uint32 dimensions, then the
 * payload in row-major order. Only type 0x08 (unsigned byte) is supported, which is what
 * image and label files use. Files may be gzip-compressed (detected by the 1f 8b magic).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { DataError } from "./errors.js";

export interface IdxArray {
  /** Dimensions from the header, e.g. [60000, 28, 28] for an image file. */
  readonly dims: readonly number[];
  /** Row-major payload, exactly product(dims) bytes. */
  readonly data: Uint8Array;
  /** The file it came from (for messages). */
  readonly file: string;
}

const IDX_TYPE_NAMES: Readonly<Record<number, string>> = {
  0x08: "unsigned byte",
  0x09: "signed byte",
  0x0b: "int16",
  0x0c: "int32",
  0x0d: "float32",
  0x0e: "float64",
};

const UBYTE = 0x08;
const MAX_DIMS = 4;

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function gunzip(bytes: Uint8Array, file: string): Uint8Array {
  try {
    return gunzipSync(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DataError(`${file}: gzip data is corrupt or truncated (${reason})`, file);
  }
}

/** Parses IDX bytes (already decompressed or gzip; gzip is detected). */
export function parseIdx(raw: Uint8Array, file: string): IdxArray {
  const bytes = isGzip(raw) ? gunzip(raw, file) : raw;
  if (bytes.length < 4) {
    throw new DataError(`${file}: too short for an IDX header: expected at least 4 bytes, found ${bytes.length}`, file);
  }
  const [zero0, zero1, type, ndims] = [bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!];
  if (zero0 !== 0 || zero1 !== 0 || ndims === 0 || ndims > MAX_DIMS) {
    throw new DataError(
      `${file}: not an IDX file: expected magic 00 00 <type> <ndims 1..${MAX_DIMS}>, found ${[zero0, zero1, type, ndims].map(hex).join(" ")}`,
      file,
    );
  }
  if (type !== UBYTE) {
    const name = IDX_TYPE_NAMES[type] ?? "unknown";
    throw new DataError(`${file}: IDX data type 0x${hex(type)} (${name}) is not supported: expected 0x08 (unsigned byte)`, file);
  }
  const headerLength = 4 + 4 * ndims;
  if (bytes.length < headerLength) {
    throw new DataError(
      `${file}: truncated IDX header: ${ndims} dimensions need ${headerLength} header bytes, found ${bytes.length}`,
      file,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const found = bytes.length - headerLength;
  if (found !== expected) {
    const what = found < expected ? "file is truncated" : "file has trailing bytes";
    throw new DataError(
      `${file}: IDX dimensions [${dims.join(", ")}] need ${expected} payload bytes, found ${found} (${what})`,
      file,
    );
  }
  return { dims, data: bytes.subarray(headerLength), file };
}

/** Reads and validates one IDX file (gzip or raw). */
export function readIdx(file: string): IdxArray {
  let raw: Uint8Array;
  try {
    raw = readFileSync(file);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DataError(`cannot read ${file}: ${reason}`, file);
  }
  return parseIdx(raw, file);
}

/** Encodes an unsigned-byte IDX file (used by tests and tools to write fixtures). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new RangeError(`encodeIdx: dims [${dims.join(", ")}] need ${expected} bytes, got ${data.length}`);
  if (dims.length < 1 || dims.length > MAX_DIMS) throw new RangeError(`encodeIdx: 1..${MAX_DIMS} dimensions, got ${dims.length}`);
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = UBYTE;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** Where Debian's dataset-fashion-mnist package puts the files. */
export const DEFAULT_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

export type IdxPart = "train" | "test";

/** Standard file stems: `train-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, ... */
export function idxStem(part: IdxPart, what: "images" | "labels"): string {
  const prefix = part === "train" ? "train" : "t10k";
  return what === "images" ? `${prefix}-images-idx3-ubyte` : `${prefix}-labels-idx1-ubyte`;
}

/** Names a stem may appear under: raw or gzip, and the `train-images.idx3-ubyte` spelling some mirrors use. */
function candidateNames(stem: string): string[] {
  const dotted = stem.replace(/-(idx\d-ubyte)$/, ".$1");
  return [stem, `${stem}.gz`, dotted, `${dotted}.gz`];
}

function installHint(dir: string): string {
  return dir === DEFAULT_FASHION_MNIST_DIR ? "; install it with `apt-get install dataset-fashion-mnist`" : "";
}

/** Checks that `dir` is a directory, with a message that says how to get the default one. */
export function requireDataDir(dir: string, datasetName: string): void {
  if (!existsSync(dir)) {
    throw new DataError(`${datasetName} directory ${dir} does not exist${installHint(dir)}`, dir);
  }
  if (!statSync(dir).isDirectory()) throw new DataError(`${datasetName} data path ${dir} is not a directory`, dir);
}

/** Path of the file for `stem` in `dir` (raw or .gz); DataError naming the file if none exists. */
export function findIdxFile(dir: string, stem: string): string {
  const names = candidateNames(stem);
  for (const name of names) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new DataError(`missing ${stem} (or ${stem}.gz) in ${dir}; looked for ${names.join(", ")}${installHint(dir)}`, join(dir, stem));
}

/** One part (train or test) of an IDX dataset as bytes, with its image shape [H, W, C]. */
export interface IdxPartData {
  readonly images: Uint8Array;
  readonly labels: Int32Array;
  readonly count: number;
  readonly shape: [number, number, number];
  readonly imagesFile: string;
  readonly labelsFile: string;
}

/** Reads and cross-checks the image and label files of one part. Images are [N,H,W] (C = 1) or [N,H,W,C]. */
export function readIdxPart(dir: string, part: IdxPart): IdxPartData {
  const images = readIdx(findIdxFile(dir, idxStem(part, "images")));
  const labels = readIdx(findIdxFile(dir, idxStem(part, "labels")));
  if (images.dims.length !== 3 && images.dims.length !== 4) {
    throw new DataError(
      `${images.file}: an image file needs 3 dimensions [count, height, width] (or 4 with channels), found [${images.dims.join(", ")}]`,
      images.file,
    );
  }
  if (labels.dims.length !== 1) {
    throw new DataError(`${labels.file}: a label file needs 1 dimension [count], found [${labels.dims.join(", ")}]`, labels.file);
  }
  const count = images.dims[0]!;
  if (labels.dims[0] !== count) {
    throw new DataError(
      `${labels.file} has ${labels.dims[0]} labels but ${images.file} has ${count} images; the counts must match`,
      labels.file,
    );
  }
  const shape: [number, number, number] = [images.dims[1]!, images.dims[2]!, images.dims[3] ?? 1];
  return { images: images.data, labels: Int32Array.from(labels.data), count, shape, imagesFile: images.file, labelsFile: labels.file };
}
