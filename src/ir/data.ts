/**
 * What example shapes the built-in datasets make, and which model inputs take them. One rule for
 * the checker (a spec whose data cannot feed its input is an error at `mex check`) and the data
 * loader (which generates or reads the images in that shape).
 *
 * Every built-in dataset is made of images [H, W, C]. A model input takes them either as images
 * (input = [H, W, C]) or flattened (input = [H * W * C]): NHWC bytes of one example are the same
 * sequence either way, so a flattened example is the image, not a copy.
 */
import type { Shape } from "./model.js";

export type ImageShape = readonly [number, number, number];

export const SYNTHETIC_MIN_SIZE = 8;
export const SYNTHETIC_MAX_SIZE = 256;
export const SYNTHETIC_MAX_CLASSES = 216; // 8 orientations x 3 wavelengths x 9 positions

export const FASHION_MNIST_IMAGE: ImageShape = [28, 28, 1];
export const FASHION_MNIST_CLASSES = 10;

/** True when `input` takes images of `image` as they are or flattened. */
export function inputTakes(input: Shape, image: ImageShape): boolean {
  if (input.length === 3) return input.every((d, i) => d === image[i]);
  return input.length === 1 && input[0] === image[0] * image[1] * image[2];
}

/** A failure to fit data to an input: the problem and how to fix it. */
export interface DataShapeProblem {
  readonly problem: string;
  readonly fix: string;
}

/**
 * The images synthetic data renders for `input`: the input itself when it is an image shape, or
 * for a vector input of S*S (grey) or S*S*3 (colour) features the S x S image it flattens.
 */
export function syntheticImageShape(input: Shape): ImageShape | DataShapeProblem {
  const sizes = `${SYNTHETIC_MIN_SIZE}..${SYNTHETIC_MAX_SIZE}`;
  const inRange = (s: number) => Number.isInteger(s) && s >= SYNTHETIC_MIN_SIZE && s <= SYNTHETIC_MAX_SIZE;
  if (input.length === 3) {
    const [h, w, c] = input as [number, number, number];
    if (!inRange(h) || !inRange(w)) return { problem: `synthetic images are ${sizes} pixels high and wide, not ${h}x${w}`, fix: `use an input between [${SYNTHETIC_MIN_SIZE}, ${SYNTHETIC_MIN_SIZE}, c] and [${SYNTHETIC_MAX_SIZE}, ${SYNTHETIC_MAX_SIZE}, c]` };
    if (c !== 1 && c !== 3) return { problem: `synthetic images have 1 or 3 channels, not ${c}`, fix: "use 1 (grey) or 3 (colour) channels" };
    return [h, w, c];
  }
  if (input.length === 1) {
    const f = input[0]!;
    const grey = Math.round(Math.sqrt(f));
    if (grey * grey === f && inRange(grey)) return [grey, grey, 1];
    const colour = Math.round(Math.sqrt(f / 3));
    if (colour * colour * 3 === f && inRange(colour)) return [colour, colour, 3];
    return { problem: `synthetic vectors are flattened square images (S*S grey or S*S*3 colour features, S in ${sizes}); ${f} is neither`, fix: "use e.g. input [64] (8x8 grey) or [784] (28x28 grey), or an image input [H, W, C]" };
  }
  return { problem: `synthetic data makes images [H, W, C] or flattened vectors, not [${input.join(", ")}]`, fix: "use an input [H, W, C] or [features]" };
}

/** The problem with feeding `classes` classes of synthetic data, or null. */
export function syntheticClassesProblem(classes: number): string | null {
  return Number.isInteger(classes) && classes >= 2 && classes <= SYNTHETIC_MAX_CLASSES ? null : `synthetic data supports 2..${SYNTHETIC_MAX_CLASSES} classes`;
}

export function isShapeProblem(x: ImageShape | DataShapeProblem): x is DataShapeProblem {
  return !Array.isArray(x);
}
