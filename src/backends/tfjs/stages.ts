/**
 * The multi-exit network as separate sub-models, for real early exit: run stage 1, ask exit 1,
 * and feed only the examples that did not exit to stage 2, and so on.
 *
 * The sub-models share weights with the full model: they apply the full model's own layer
 * objects (looked up by IR name) to fresh `tf.input`s, so training or loading weights into the
 * full model is immediately visible here, and vice versa.
 */
import * as tf from "@tensorflow/tfjs";
import type { LayerNode, ModelIR } from "../../ir/model.js";
import { applyHead, applyNodes, TfjsBuildError, type LayerOf } from "./build.js";

export interface StageModel {
  readonly name: string;
  readonly index: number;
  /** Stage input (per example) -> stage output. */
  readonly model: tf.LayersModel;
}

export interface HeadModel {
  /** Exit name (= the full model's output name). */
  readonly name: string;
  readonly index: number;
  /** Index of the stage whose output the head reads. */
  readonly stageIndex: number;
  /** Stage output -> logits. */
  readonly model: tf.LayersModel;
}

export interface StagedModels {
  /** In stage order. */
  readonly stages: readonly StageModel[];
  /** In exit order. */
  readonly heads: readonly HeadModel[];
}

/**
 * Split `model` (built by `buildModel` from `ir`, or loaded from disk) into per-stage and
 * per-exit sub-models. Throws `TfjsBuildError` when `model` lacks a layer the IR names.
 */
export function buildStagedModels(ir: ModelIR, model: tf.LayersModel): StagedModels {
  const layerOf = existingLayerOf(model);
  const stages = ir.stages.map((stage) => {
    const input = tf.input({ shape: [...stage.inShape] });
    const output = stage.nodes.length === 0 ? identity(input, `${stage.name}/identity`) : applyNodes(stage.nodes, input, layerOf);
    return { name: stage.name, index: stage.index, model: tf.model({ inputs: input, outputs: output, name: `${ir.name}.${stage.name}` }) };
  });
  const heads = ir.exits.map((exit) => {
    const input = tf.input({ shape: [...exit.inShape] });
    const output = applyHead(exit.head, input, layerOf, layerByName(model, exit.name));
    return { name: exit.name, index: exit.index, stageIndex: exit.stageIndex, model: tf.model({ inputs: input, outputs: output, name: `${ir.name}.${exit.name}` }) };
  });
  return { stages, heads };
}

/**
 * Run the staged models on a batch without dropping anything: every exit's logits, in exit
 * order. Equals `model.predict(x)`; the early-exit driver does the same stage by stage but
 * gathers the surviving rows between stages.
 */
export function predictStaged(staged: StagedModels, x: tf.Tensor): tf.Tensor[] {
  return tf.tidy(() => {
    const features: tf.Tensor[] = [];
    let h = x;
    for (const stage of staged.stages) {
      h = stage.model.predict(h) as tf.Tensor;
      features.push(h);
    }
    return staged.heads.map((head) => head.model.predict(features[head.stageIndex]!) as tf.Tensor);
  });
}

function existingLayerOf(model: tf.LayersModel): LayerOf {
  return (node: LayerNode) => layerByName(model, node.name);
}

function layerByName(model: tf.LayersModel, name: string): tf.layers.Layer {
  const layer = model.layers.find((l) => l.name === name);
  if (!layer) throw new TfjsBuildError(`model "${model.name}" has no layer "${name}" (was it built from this IR?)`, name);
  return layer;
}

/** An empty stage passes its input through; a model needs at least one layer to have an output. */
function identity(x: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
  return tf.layers.activation({ activation: "linear", name }).apply(x) as tf.SymbolicTensor;
}
