/**
 * The checked model IR: what every backend (tfjs, ONNX, trainer, evaluator) reads.
 *
 * Produced only by `src/check/` from a syntax tree that parsed and checked without errors.
 * Backends never see the syntax tree. Everything here is plain data (JSON-serialisable),
 * so a run directory can store it and tools can diff it.
 *
 * Conventions
 * - Shapes are per example, channels last, without the batch axis: images are [H, W, C],
 *   vectors are [features].
 * - `params` counts trainable parameters (PyTorch's `numel` of parameters; batch-norm running
 *   statistics are buffers, counted in `buffers`).
 * - `macs` counts multiply-accumulates per example of conv and dense layers. Batch norm folds
 *   into the preceding conv at inference, and pools, activations and residual adds are not
 *   multiply-accumulates, so they count 0. This is the convention of MSDNet's op counter for
 *   the layers that dominate cost, and it keeps costs hand-checkable.
 */

/** Per-example tensor shape, channels last, no batch axis. */
export type Shape = readonly number[];

/** Half-open character range [start, end) into the spec source (0-based offsets). */
export interface Span {
  readonly start: number;
  readonly end: number;
}

export type Padding = "same" | "valid";

/** Every primitive layer the language has. Composite blocks (residual, concat, repeat) are nodes, not ops. */
export type OpName =
  | "conv"
  | "dense"
  | "bn"
  | "relu"
  | "relu6"
  | "gelu"
  | "sigmoid"
  | "tanh"
  | "maxpool"
  | "avgpool"
  | "gap"
  | "flatten"
  | "dropout";

export interface ConvArgs {
  /** Output channels. */
  readonly filters: number;
  /** [kh, kw]. */
  readonly kernel: readonly [number, number];
  /** [sh, sw]. */
  readonly stride: readonly [number, number];
  readonly padding: Padding;
  /** [dh, dw]. */
  readonly dilation: readonly [number, number];
  /** Channel groups; depthwise when groups == input channels. */
  readonly groups: number;
  readonly bias: boolean;
}

export interface DenseArgs {
  readonly units: number;
  readonly bias: boolean;
}

export interface BnArgs {
  /** Added to the variance. */
  readonly epsilon: number;
  /** PyTorch convention: running = (1 - momentum) * running + momentum * batch. */
  readonly momentum: number;
}

export interface PoolArgs {
  /** [ph, pw]. */
  readonly size: readonly [number, number];
  /** [sh, sw]; defaults to size. */
  readonly stride: readonly [number, number];
  readonly padding: Padding;
}

export interface DropoutArgs {
  /** Drop probability in [0, 1). */
  readonly rate: number;
}

export type EmptyArgs = Readonly<Record<string, never>>;

/** Op name -> its resolved arguments (every default filled in). */
export interface OpArgsMap {
  conv: ConvArgs;
  dense: DenseArgs;
  bn: BnArgs;
  relu: EmptyArgs;
  relu6: EmptyArgs;
  gelu: EmptyArgs;
  sigmoid: EmptyArgs;
  tanh: EmptyArgs;
  maxpool: PoolArgs;
  avgpool: PoolArgs;
  gap: EmptyArgs;
  flatten: EmptyArgs;
  dropout: DropoutArgs;
}

interface NodeBase {
  /**
   * Unique, stable, spec-derived path used for tfjs layer names and ONNX node names:
   * `<stage-or-exit>/<op>` for the first op of a kind in a scope, then `<op>_1`, `<op>_2`, ...
   * Blocks add a segment (`s2/residual/conv_1`, `s2/residual_1/shortcut/conv`), each repeat iteration
   * adds `repeat/r<i>` (`s3/repeat/r0/residual/conv`, a second repeat in the scope: `s3/repeat_1/r0/...`).
   */
  readonly name: string;
  readonly inShape: Shape;
  readonly outShape: Shape;
  /** Trainable parameters of this node (including children for blocks). */
  readonly params: number;
  /** Non-trainable buffers (batch-norm running mean and variance), including children. */
  readonly buffers: number;
  /** Multiply-accumulates per example (including children). */
  readonly macs: number;
  /** Where the node was written (for a node from a `repeat`, the written layer). */
  readonly span: Span;
}

export type OpNodeOf<K extends OpName> = NodeBase & {
  readonly kind: "op";
  readonly op: K;
  readonly args: OpArgsMap[K];
  /** True for nodes the checker inserted (the automatic 1x1 projection of a residual). */
  readonly synthetic?: boolean;
};

/** A primitive layer; discriminate on `op` to get typed `args`. */
export type OpNode = { [K in OpName]: OpNodeOf<K> }[OpName];

/** output = body(x) + shortcut(x); an empty shortcut is the identity. */
export interface ResidualNode extends NodeBase {
  readonly kind: "residual";
  readonly body: readonly LayerNode[];
  readonly shortcut: readonly LayerNode[];
  /** "identity", "explicit" (written by the user) or "projection" (inserted: 1x1 conv + bn). */
  readonly shortcutKind: "identity" | "explicit" | "projection";
}

/** DenseNet-style: output = concat([x, body(x)], channels). */
export interface ConcatNode extends NodeBase {
  readonly kind: "concat";
  readonly body: readonly LayerNode[];
}

export type LayerNode = OpNode | ResidualNode | ConcatNode;

export interface StageIR {
  readonly name: string;
  readonly index: number;
  readonly nodes: readonly LayerNode[];
  readonly inShape: Shape;
  readonly outShape: Shape;
  readonly params: number;
  readonly buffers: number;
  readonly macs: number;
  /** MACs of the backbone up to and including this stage. */
  readonly cumulativeMacs: number;
  readonly span: Span;
}

export interface ExitIR {
  readonly name: string;
  /** 0-based position in exit order (= stage order). */
  readonly index: number;
  /** Name of the stage it is attached after. */
  readonly after: string;
  readonly stageIndex: number;
  readonly head: readonly LayerNode[];
  readonly inShape: Shape;
  /** Always [classes]: the head ends in `classes` logits. */
  readonly outShape: Shape;
  /** Head parameters only. */
  readonly params: number;
  readonly buffers: number;
  /** Head MACs only. */
  readonly macs: number;
  /** Backbone up to its stage + its own head: the cost of answering at this exit alone. */
  readonly cumulativeMacs: number;
  /** Backbone up to its stage + its own head. */
  readonly cumulativeParams: number;
  /** cumulativeMacs / last exit's cumulativeMacs. */
  readonly fraction: number;
  readonly span: Span;
}

export type TemperatureIR =
  | { readonly kind: "constant"; readonly value: number }
  /** Algorithm 1 of the paper: tau *= factor after a batch whose mean teacher confidence > confidence. */
  | { readonly kind: "adaptive"; readonly start: number; readonly confidence: number; readonly factor: number }
  /** Linear in the epoch: from at epoch 0 to `to` at the last epoch. */
  | { readonly kind: "linear"; readonly from: number; readonly to: number };

export interface DistillIR {
  /** How the teacher sets were written. */
  readonly mode: "last" | "later" | "none" | "explicit";
  /** teachers[m] = exit indices in T(m) (all strictly greater than m). */
  readonly teachers: readonly (readonly number[])[];
  /** C: the share of the distillation term, in [0, 1]. */
  readonly weight: number;
  readonly temperature: TemperatureIR;
}

interface DataCommon {
  /** Labeled images per class (train + validation); null = all available. */
  readonly perClass: number | null;
  /** Of those, images per class held out for validation (model selection). */
  readonly valPerClass: number;
  /** Extra images per class moved into an unlabeled pool (semi-supervised distillation). */
  readonly unlabeledPerClass: number;
  /** Test images per class to use; null = the whole test set. */
  readonly testPerClass: number | null;
  /** Per-channel standardisation with train-set statistics. */
  readonly normalize: boolean;
}

export type DataIR =
  | (DataCommon & {
      readonly kind: "synthetic";
      /** Deterministic generator seed (independent of the training seed). */
      readonly seed: number;
    })
  | (DataCommon & {
      readonly kind: "fashion_mnist" | "idx";
      /** Absolute directory with the IDX files (resolved relative to the spec file). */
      readonly dir: string;
    });

export type AugmentIR = { readonly kind: "flip" } | { readonly kind: "crop"; readonly pad: number };

export type OptimizerIR =
  | {
      readonly kind: "sgd";
      readonly lr: number;
      readonly momentum: number;
      readonly nesterov: boolean;
      readonly weightDecay: number;
    }
  | {
      readonly kind: "adam";
      readonly lr: number;
      readonly beta1: number;
      readonly beta2: number;
      readonly epsilon: number;
      readonly weightDecay: number;
    };

export type ScheduleIR =
  | { readonly kind: "constant" }
  /** lr *= gamma at each milestone epoch (0-based epoch count at which it takes effect). */
  | { readonly kind: "multistep"; readonly milestones: readonly number[]; readonly gamma: number }
  /** Cosine annealing from lr to minLr over all epochs. */
  | { readonly kind: "cosine"; readonly minLr: number };

export interface TrainIR {
  readonly data: DataIR;
  readonly augment: readonly AugmentIR[];
  readonly optimizer: OptimizerIR;
  readonly schedule: ScheduleIR;
  readonly epochs: number;
  readonly batch: number;
  readonly seed: number;
  /** Output directory (absolute, resolved relative to the spec file), or null for the default. */
  readonly out: string | null;
}

export interface ModelIR {
  readonly name: string;
  readonly input: Shape;
  readonly classes: number;
  readonly stages: readonly StageIR[];
  readonly exits: readonly ExitIR[];
  /** Absent: exit-wise (multi-task) training, no distillation term. */
  readonly distill: DistillIR | null;
  readonly train: TrainIR;
  /** Totals over backbone and all heads. */
  readonly params: number;
  readonly buffers: number;
  readonly macs: number;
  /** Peak-free sum of activation elements per example over all nodes (a memory estimate). */
  readonly activations: number;
  /** The spec text this IR was checked from, and its SHA-256 (hex). */
  readonly source: string;
  readonly sourceHash: string;
  /** Path of the spec file as given (or "<input>"). */
  readonly file: string;
}

/** Pre-order walk over a node list: a block, then its body, then its shortcut. */
export function* walkNodes(nodes: readonly LayerNode[]): Generator<LayerNode> {
  for (const node of nodes) {
    yield node;
    if (node.kind === "residual") {
      yield* walkNodes(node.body);
      yield* walkNodes(node.shortcut);
    } else if (node.kind === "concat") {
      yield* walkNodes(node.body);
    }
  }
}

/** Every node of the model: stages in order, then exit heads in order. */
export function* allNodes(model: ModelIR): Generator<LayerNode> {
  for (const stage of model.stages) yield* walkNodes(stage.nodes);
  for (const exit of model.exits) yield* walkNodes(exit.head);
}

/**
 * MACs an example pays when it stops at each exit in a real early-exit run: the backbone up to that
 * exit's stage plus the heads of every exit evaluated on the way (exits 1..m). `evaluated(m)` says
 * whether exit m's head runs at all (a closed exit's head is skipped; the last exit always runs).
 */
export function exitStopCosts(model: ModelIR, evaluated: (exit: number) => boolean = () => true): number[] {
  let heads = 0;
  const last = model.exits.length - 1;
  return model.exits.map((exit, m) => {
    if (m === last || evaluated(m)) heads += exit.macs;
    return model.stages[exit.stageIndex]!.cumulativeMacs + heads;
  });
}
