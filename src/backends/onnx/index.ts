/** ONNX export of checked IR + weights: the multi-exit graph and the early-exit (nested If) graph. */
export {
  buildOnnxModel,
  DEFAULT_OPSET,
  earlyExitCosts,
  EXIT_INDEX_NAME,
  exportOnnx,
  INPUT_NAME,
  irVersionFor,
  logitsName,
  MAX_OPSET,
  MIN_OPSET,
  PROBS_NAME,
  type OnnxExportOptions,
} from "./export.js";
export { OnnxExportError, samePads } from "./lower.js";
export { decodeModel } from "./proto.js";
export { chooseFromEval, parseMacs, parseThresholds, type ChosenPoint, type EvalPoint, type Result } from "./thresholds.js";
