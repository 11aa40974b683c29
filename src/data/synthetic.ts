/**
 * A built-in image dataset with no files: seeded, deterministic, any shape [H, W, C] (C = 1 or 3,
 * or flattened into a vector input, see src/ir/data.ts) and any number of classes, with examples of graded difficulty so early exits matter.
 *
 * Each class has a prototype: a Gabor patch (an oriented grating under a Gaussian window) with a
 * class-specific orientation (8 choices), wavelength (3) and position (3x3 grid), and for C = 3 a
 * colour from a 6-colour palette. Classes get the most mutually distant combinations (greedy
 * farthest-point choice), so 10 classes differ in orientation and wavelength, not just position.
 *
 * Every example draws a difficulty d ~ U(0, 1) and is rendered as
 *   background + amplitude(d) * shifted prototype + distractors(d) + occlusion(d) + noise(d)
 * - easy (d near 0): strong grating (amplitude 0.42), tiny shift, little noise, no distractors:
 *   a few 3x3 filters and a pooled readout suffice, so a shallow exit gets these right.
 * - hard (d near 1): faint grating (0.13), noise sigma 0.2 (per-pixel SNR below 1), a larger shift,
 *   up to 2 distractors (other classes' patches at 40-80% of the signal, anywhere), and often an
 *   occluding rectangle: class evidence has to be pooled over a large receptive field and told
 *   apart from the distractors, which is what deeper exits add.
 * The difficulty of each example is returned, so evaluation can report accuracy per difficulty.
 *
 * Example j of a pool (class j % classes) is generated from its own stream keyed by
 * (seed, part, j), so a pool of N per class is a prefix of a pool of N' > N per class.
 */
import { isShapeProblem, syntheticClassesProblem, syntheticImageShape } from "../ir/data.js";
import { DataError } from "./errors.js";
import { deriveSeed, Rng } from "./rng.js";

/** Training-pool images per class when the spec asks for "all" (`perClass` null). */
export const SYNTHETIC_TRAIN_PER_CLASS = 500;
/** Test images per class when the spec asks for the whole test set (`testPerClass` null). */
export const SYNTHETIC_TEST_PER_CLASS = 100;

const ORIENTATIONS = 8;
const WAVELENGTHS = 3;
const POSITIONS = 9;
/** Wavelengths as fractions of the image side, floored to a few pixels so 8x8 images do not alias. */
const WAVELENGTH_FRACTIONS = [0.12, 0.19, 0.3];
const WAVELENGTH_MIN_PIXELS = [2.5, 3.7, 4.9];
const WINDOW_SIGMA_FRACTION = 0.16;
const POSITION_OFFSET_FRACTION = 0.22;
const PALETTE: readonly (readonly [number, number, number])[] = [
  [1, 0.25, 0.25],
  [0.25, 1, 0.25],
  [0.25, 0.25, 1],
  [1, 1, 0.2],
  [0.2, 1, 1],
  [1, 0.2, 1],
];

export type SyntheticPart = "train" | "test";

export interface SyntheticPool {
  /** NHWC bytes, like a decoded IDX file. */
  readonly images: Uint8Array;
  readonly labels: Int32Array;
  /** Per-example difficulty in [0, 1): 0 = easiest. */
  readonly difficulty: Float32Array;
  readonly count: number;
  readonly shape: [number, number, number];
}

interface ClassPrototype {
  readonly orientation: number;
  readonly wavelength: number;
  readonly position: number;
  /** H*W pattern in [-1, 1], centred at the class position. */
  readonly pattern: Float32Array;
  /** Channel weights (all 1 for grey images). */
  readonly colour: readonly number[];
}

/**
 * The image shape synthetic data renders for a model input (an image input, or a vector input that
 * flattens a square image) and the class count; DataError with the supported ranges otherwise.
 */
export function checkSyntheticShape(input: readonly number[], classes: number): [number, number, number] {
  const image = syntheticImageShape(input);
  if (isShapeProblem(image)) throw new DataError(`${image.problem}: the model input is [${input.join(", ")}]; ${image.fix}`);
  const classProblem = syntheticClassesProblem(classes);
  if (classProblem) throw new DataError(`${classProblem}, but the model has ${classes}`);
  return [...image];
}

/** Distance between two (orientation, wavelength, position) combinations, each term in [0, 1]. */
function comboDistance(a: readonly number[], b: readonly number[]): number {
  const dOrient = Math.min(Math.abs(a[0]! - b[0]!), ORIENTATIONS - Math.abs(a[0]! - b[0]!)) / (ORIENTATIONS / 2);
  const dWave = Math.abs(a[1]! - b[1]!) / (WAVELENGTHS - 1);
  const ax = a[2]! % 3, ay = Math.floor(a[2]! / 3), bx = b[2]! % 3, by = Math.floor(b[2]! / 3);
  const dPos = Math.hypot(ax - bx, ay - by) / Math.hypot(2, 2);
  // Orientation and wavelength survive shifts and are visible to small receptive fields: weigh them most.
  return 1.5 * dOrient + 1.0 * dWave + 0.6 * dPos;
}

/** Greedy farthest-point choice of `classes` distinct combinations, ties broken by a seeded order. */
function chooseCombos(classes: number, rng: Rng): number[][] {
  const all: number[][] = [];
  for (let o = 0; o < ORIENTATIONS; o++) for (let f = 0; f < WAVELENGTHS; f++) for (let p = 0; p < POSITIONS; p++) all.push([o, f, p]);
  rng.shuffle(all);
  const chosen = [all[0]!];
  const nearest = all.map((combo) => comboDistance(combo, all[0]!));
  while (chosen.length < classes) {
    let best = -1;
    for (let i = 0; i < all.length; i++) if (best < 0 || nearest[i]! > nearest[best]!) best = i;
    const pick = all[best]!;
    chosen.push(pick);
    for (let i = 0; i < all.length; i++) nearest[i] = Math.min(nearest[i]!, comboDistance(all[i]!, pick));
  }
  return chosen;
}

function renderPattern(h: number, w: number, orientation: number, wavelength: number, position: number, phase: number): Float32Array {
  const size = Math.min(h, w);
  const theta = (Math.PI * orientation) / ORIENTATIONS;
  const lambda = Math.max(WAVELENGTH_FRACTIONS[wavelength]! * size, WAVELENGTH_MIN_PIXELS[wavelength]!);
  const sigma = WINDOW_SIGMA_FRACTION * size;
  const cx = (w - 1) / 2 + ((position % 3) - 1) * POSITION_OFFSET_FRACTION * w;
  const cy = (h - 1) / 2 + (Math.floor(position / 3) - 1) * POSITION_OFFSET_FRACTION * h;
  const cos = Math.cos(theta), sin = Math.sin(theta);
  const pattern = new Float32Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dx = x - cx, dy = y - cy;
      const along = dx * cos + dy * sin;
      const window = Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
      pattern[y * w + x] = window * Math.cos((2 * Math.PI * along) / lambda + phase);
    }
  }
  return pattern;
}

/** The class prototypes of a synthetic dataset: depend on seed, shape and class count only. */
function makePrototypes(seed: number, shape: [number, number, number], classes: number): ClassPrototype[] {
  const [h, w, c] = shape;
  const rng = new Rng(deriveSeed(seed, "synthetic-prototypes", classes));
  const combos = chooseCombos(classes, rng);
  const palette = rng.shuffle(PALETTE.slice());
  return combos.map(([orientation, wavelength, position], k) => ({
    orientation: orientation!,
    wavelength: wavelength!,
    position: position!,
    pattern: renderPattern(h, w, orientation!, wavelength!, position!, rng.uniform(0, 2 * Math.PI)),
    colour: c === 1 ? [1] : [...palette[k % palette.length]!],
  }));
}

/** Adds amplitude * pattern shifted by (dy, dx), weighted per channel, into an HWC float canvas. */
function addShifted(canvas: Float32Array, proto: ClassPrototype, shape: [number, number, number], dy: number, dx: number, amplitude: number): void {
  const [h, w, c] = shape;
  const y0 = Math.max(0, dy), y1 = Math.min(h, h + dy);
  const x0 = Math.max(0, dx), x1 = Math.min(w, w + dx);
  for (let y = y0; y < y1; y++) {
    const src = (y - dy) * w - dx;
    for (let x = x0; x < x1; x++) {
      const v = amplitude * proto.pattern[src + x]!;
      const base = (y * w + x) * c;
      for (let ch = 0; ch < c; ch++) canvas[base + ch]! += v * proto.colour[ch]!;
    }
  }
}

const NOISE_BITS = 12;
const NOISE_MASK = (1 << NOISE_BITS) - 1;
let cachedNormalTable: Float32Array | null = null;

/** Standard-normal quantiles at (i + 0.5) / 4096: indexing it with uniform bits gives Gaussian noise. */
function normalTable(): Float32Array {
  if (!cachedNormalTable) {
    const size = 1 << NOISE_BITS;
    cachedNormalTable = new Float32Array(size);
    for (let i = 0; i < size; i++) cachedNormalTable[i] = normalQuantile((i + 0.5) / size);
  }
  return cachedNormalTable;
}

/** Inverse standard-normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  const tail = (q: number): number =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < low) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - low) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5, r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** Renders one example of class `label` with difficulty drawn from `rng`; writes bytes into `out`. */
function renderExample(out: Uint8Array, offset: number, label: number, protos: ClassPrototype[], shape: [number, number, number], rng: Rng, canvas: Float32Array): number {
  const [h, w, c] = shape;
  const size = Math.min(h, w);
  const d = rng.next();
  const background = 0.5 + d * rng.uniform(-0.1, 0.1);
  canvas.fill(background);

  const amplitude = 0.42 * (1 - 0.7 * d);
  const maxShift = Math.round((0.04 + 0.12 * d) * size);
  const shift = (): number => rng.int(2 * maxShift + 1) - maxShift;
  addShifted(canvas, protos[label]!, shape, shift(), shift(), amplitude);

  const distractors = d < 0.35 ? 0 : d < 0.7 ? 1 : 2;
  const far = Math.round(0.3 * size);
  for (let i = 0; i < distractors && protos.length > 1; i++) {
    const other = (label + 1 + rng.int(protos.length - 1)) % protos.length;
    const dy = rng.int(2 * far + 1) - far, dx = rng.int(2 * far + 1) - far;
    addShifted(canvas, protos[other]!, shape, dy, dx, amplitude * rng.uniform(0.4, 0.8) * (rng.next() < 0.5 ? -1 : 1));
  }

  if (d > 0.5 && rng.next() < (d - 0.5) * 1.4) {
    const oh = Math.max(1, Math.round(rng.uniform(0.2, 0.35) * h)), ow = Math.max(1, Math.round(rng.uniform(0.2, 0.35) * w));
    const oy = rng.int(h - oh + 1), ox = rng.int(w - ow + 1);
    for (let y = oy; y < oy + oh; y++) canvas.fill(background, (y * w + ox) * c, (y * w + ox + ow) * c);
  }

  const sigma = 0.03 + 0.17 * d;
  const n = h * w * c;
  const table = normalTable();
  let bits = 0;
  for (let i = 0; i < n; i++) {
    // Two 12-bit table lookups per 32-bit draw: pixel noise is the hot loop (Box-Muller was 5x slower).
    if ((i & 1) === 0) bits = rng.nextUint32();
    const z = table[(i & 1) === 0 ? bits & NOISE_MASK : (bits >>> 16) & NOISE_MASK]!;
    const v = canvas[i]! + sigma * z;
    out[offset + i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
  }
  return d;
}

/**
 * Generates `perClass` examples of every class for one part. Deterministic in
 * (seed, shape, classes, part); example j has class j % classes (classes interleaved).
 */
export function syntheticPool(seed: number, shape: readonly number[], classes: number, part: SyntheticPart, perClass: number): SyntheticPool {
  const checked = checkSyntheticShape(shape, classes);
  const [h, w, c] = checked;
  const protos = makePrototypes(seed, checked, classes);
  const count = perClass * classes;
  const pixels = h * w * c;
  const images = new Uint8Array(count * pixels);
  const labels = new Int32Array(count);
  const difficulty = new Float32Array(count);
  const canvas = new Float32Array(pixels);
  const partSeed = deriveSeed(seed, "synthetic-examples", part);
  for (let j = 0; j < count; j++) {
    const label = j % classes;
    labels[j] = label;
    difficulty[j] = renderExample(images, j * pixels, label, protos, checked, new Rng(deriveSeed(partSeed, j)), canvas);
  }
  return { images, labels, difficulty, count, shape: checked };
}
