/**
 * The custom tfjs layers of the backend. Importing this module registers them with
 * `tf.serialization`, which `loadModel` needs before it can deserialise a saved model.
 */
export { Gelu, gelu } from "./gelu.js";
export { MexDropout, dropoutSeed, setDropoutStep, type MexDropoutArgs } from "./dropout.js";
export { MexConv2D, mexConv2d, atrousPadding, convOutputLength, isDepthwise, type MexConv2DArgs, type ConvGeometryArgs } from "./conv.js";
