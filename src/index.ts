/**
 * mex as a library: the same pipeline as the CLI, typed.
 *
 *   text --checkSource--> ModelIR --buildModel--> tf.LayersModel --train--> run directory
 *                                  \--exportOnnx--> ONNX            \--evaluate--> anytime/budget/dynamic
 */
// Front end: spec text -> diagnostics and checked IR.
export { checkSource, DEFAULT_LIMITS, type CheckOptions, type CheckResult, type CheckLimits, type NodeInfo } from "./check/index.js";
export { applyOverrides, parseOverride, type Override } from "./check/overrides.js";
export { parse, tokenize } from "./syntax/parse.js";
export type * from "./syntax/ast.js";
export type * from "./ir/model.js";
export { allNodes, walkNodes } from "./ir/model.js";
export { CODES, ALL_CODES, type Code, type CodeEntry } from "./diagnostics/codes.js";
export type { Diagnostic, Severity } from "./diagnostics/diagnostic.js";
export { SourceFile } from "./diagnostics/source.js";
export { renderText, renderJson, locate } from "./diagnostics/render.js";
export { LAYERS } from "./ops/index.js";

// TensorFlow.js backend.
export { initBackend, type BackendChoice, type BackendInfo } from "./backends/tfjs/backend.js";
export { buildModel, type BuildOptions } from "./backends/tfjs/build.js";
export { buildStagedModels } from "./backends/tfjs/stages.js";
export { extractWeights, loadWeightsInto } from "./backends/tfjs/weights.js";
export { saveModel, loadModel } from "./backends/tfjs/io.js";
export { predictProbs } from "./backends/tfjs/predict.js";

// Training: the paper's objective, temperature rule, optimizers, trainer.
export { multiExitLoss, lossAndGrads, teacherConfidence, teacherUnion, stopGradient, type MultiExitLossInput, type MultiExitLoss } from "./train/loss.js";
export { Temperature } from "./train/temperature.js";
export { createOptimizer } from "./train/optimizer.js";
export { learningRate } from "./train/schedule.js";
export { train, NumericalError, type TrainOptions, type TrainResult, type EpochMetrics } from "./train/trainer.js";
export { loadDataset, type Dataset, type Split } from "./data/dataset.js";
export { loadRun, isRunDir, type LoadedRun } from "./run/load.js";

// Evaluation and export.
export * as evaluation from "./eval/index.js";
export * as onnx from "./backends/onnx/index.js";
