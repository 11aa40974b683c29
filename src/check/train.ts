/** The `train` section -> TrainIR: data, augmentation, optimizer, schedule, epochs, batch, seed, out. */
import * as path from "node:path";
import type { AugmentIR, DataIR, OptimizerIR, ScheduleIR, Shape, Span, TrainIR } from "../ir/model.js";
import { FASHION_MNIST_CLASSES, FASHION_MNIST_IMAGE, inputTakes, isShapeProblem, SYNTHETIC_MAX_CLASSES, syntheticClassesProblem, syntheticImageShape } from "../ir/data.js";
import type { Entry } from "../syntax/ast.js";
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { ArgReader, ParamSpec } from "./args.js";
import { readInt } from "./args.js";
import { readEntries, readVariant, type OptionSpec, type Variant } from "./sections.js";
import { describe, type Env, type Value } from "./values.js";
import { formatShape } from "../ops/index.js";

export const DEFAULT_FASHION_DIR = "/usr/share/datasets/fashion-mnist";

export const TRAIN_OPTIONS: readonly OptionSpec[] = [
  { name: "data", doc: "synthetic(...) (built in), fashion_mnist(...) or idx(dir=...)", default: "synthetic()" },
  { name: "augment", doc: "list of flip and crop(pad=N)", default: "[]" },
  { name: "optimizer", doc: "sgd(...) or adam(...)", default: "sgd(lr=0.1, momentum=0.9)" },
  { name: "schedule", doc: "constant, multistep(milestones=[...], gamma) or cosine(min_lr)", default: "constant" },
  { name: "epochs", doc: "training epochs (>= 1)", default: "10" },
  { name: "batch", doc: "examples per training step (>= 1)", default: "64" },
  { name: "seed", doc: "initialisation, subset and batch-order seed (>= 0)", default: "0" },
  { name: "out", doc: "run directory, relative to the spec file", default: "runs/<model>" },
];

const SPLIT_PARAMS: readonly ParamSpec[] = [
  { name: "per_class", doc: "labeled images per class (train + validation), or all", default: "all" },
  { name: "val_per_class", doc: "of those, images per class held out for validation", default: "50" },
  { name: "unlabeled_per_class", doc: "extra images per class used unlabeled (distillation term only)", default: "0" },
  { name: "test_per_class", doc: "test images per class, or all", default: "all" },
  { name: "normalize", doc: "per-channel standardisation with train statistics", default: "true" },
];

export const DATA_VARIANTS: readonly Variant[] = [
  {
    name: "synthetic",
    doc: "built-in deterministic images of graded difficulty (no files); pools of 500 train and 100 test images per class",
    params: [...SPLIT_PARAMS.map((p) => (p.name === "per_class" ? { ...p, default: "200" } : p.name === "test_per_class" ? { ...p, default: "100" } : p)), { name: "seed", doc: "generator seed (the dataset's identity)", default: "0" }],
  },
  { name: "fashion_mnist", doc: "Fashion-MNIST IDX files (Debian package dataset-fashion-mnist)", params: [...SPLIT_PARAMS, { name: "dir", doc: "directory with the IDX files", default: `"${DEFAULT_FASHION_DIR}"` }] },
  { name: "idx", doc: "any MNIST-format IDX dataset", params: [...SPLIT_PARAMS, { name: "dir", doc: "directory with the IDX files", required: true }] },
];

export const AUGMENT_VARIANTS: readonly Variant[] = [
  { name: "flip", doc: "horizontal flip with probability 0.5", params: [] },
  { name: "crop", doc: "zero-pad by pad pixels and crop back at a random offset", params: [{ name: "pad", doc: "padding in pixels", positional: true, default: "4" }] },
];

export const OPTIMIZER_VARIANTS: readonly Variant[] = [
  {
    name: "sgd",
    doc: "SGD with momentum (PyTorch semantics)",
    params: [
      { name: "lr", doc: "learning rate", default: "0.1" },
      { name: "momentum", doc: "momentum in [0, 1)", default: "0.9" },
      { name: "nesterov", doc: "Nesterov momentum", default: "false" },
      { name: "weight_decay", doc: "L2 penalty added to the gradient", default: "0" },
    ],
  },
  {
    name: "adam",
    doc: "Adam (PyTorch semantics)",
    params: [
      { name: "lr", doc: "learning rate", default: "0.001" },
      { name: "beta1", doc: "first-moment decay", default: "0.9" },
      { name: "beta2", doc: "second-moment decay", default: "0.999" },
      { name: "epsilon", doc: "denominator guard", default: "1e-8" },
      { name: "weight_decay", doc: "L2 penalty added to the gradient", default: "0" },
    ],
  },
];

export const SCHEDULE_VARIANTS: readonly Variant[] = [
  { name: "constant", doc: "fixed learning rate", params: [] },
  {
    name: "multistep",
    doc: "lr *= gamma at each milestone epoch",
    params: [
      { name: "milestones", doc: "increasing epoch numbers", required: true },
      { name: "gamma", doc: "factor at each milestone", default: "0.1" },
    ],
  },
  { name: "cosine", doc: "cosine annealing to min_lr", params: [{ name: "min_lr", doc: "final learning rate", default: "0" }] },
];

export interface TrainContext {
  readonly env: Env;
  readonly bag: DiagnosticBag;
  /** Directory that relative paths in the spec are resolved against. */
  readonly baseDir: string;
  /** `section.option` keys set on the command line (`--set`), which relax some cross-option checks. */
  readonly overridden?: ReadonlySet<string>;
  /** The model's input and classes (null when they did not check), for data/model compatibility. */
  readonly input?: Shape | null;
  readonly classes?: number | null;
}

export function checkTrain(entries: readonly Entry[] | null, ctx: TrainContext): TrainIR {
  const options = readEntries("train", entries ?? [], TRAIN_OPTIONS, ctx.env, ctx.bag);
  const get = (name: string) => options.get(name)?.value;
  const epochs = readCount(get("epochs"), "epochs", 10, 1, ctx);
  const out = get("out");
  return {
    data: readData(get("data"), ctx),
    augment: readAugment(get("augment"), ctx),
    optimizer: readOptimizer(get("optimizer"), ctx),
    schedule: readSchedule(get("schedule"), epochs, ctx),
    epochs,
    batch: readCount(get("batch"), "batch", 64, 1, ctx),
    seed: readCount(get("seed"), "seed", 0, 0, ctx),
    out: out && out.kind === "str" ? path.resolve(ctx.baseDir, out.value) : readOut(out, ctx),
  };
}

function readOut(value: Value | undefined, ctx: TrainContext): null {
  if (value && value.kind !== "bad") ctx.bag.report("MEX2023", value.span, { expected: "a path in double quotes", got: describe(value) });
  return null;
}

function readCount(value: Value | undefined, name: string, fallback: number, min: number, ctx: TrainContext): number {
  if (value === undefined) return fallback;
  return readInt(value, name, { ge: min }, ctx.env, ctx.bag) ?? fallback;
}

/** `per_class=all` or an integer. */
function countOrAll(reader: ArgReader, name: string, fallback: number | null, min: number): number | null {
  const value = reader.value(name);
  if (value?.kind === "sym" && value.name === "all") return null;
  return reader.has(name) ? reader.int(name, fallback ?? 0, { ge: min }) : fallback;
}

function readData(value: Value | undefined, ctx: TrainContext): DataIR {
  const fallback: DataIR = { kind: "synthetic", seed: 0, perClass: 200, valPerClass: 50, unlabeledPerClass: 0, testPerClass: 100, normalize: true };
  if (value === undefined) return fallback;
  const variant = readVariant(value, "data", DATA_VARIANTS, ctx.env, ctx.bag);
  if (!variant) return fallback;
  const r = variant.reader;
  const synthetic = variant.name === "synthetic";
  const common = {
    perClass: countOrAll(r, "per_class", synthetic ? 200 : null, 1),
    valPerClass: r.int("val_per_class", 50, { ge: 1 }),
    unlabeledPerClass: r.int("unlabeled_per_class", 0, { ge: 0 }),
    testPerClass: countOrAll(r, "test_per_class", synthetic ? 100 : null, 1),
    normalize: r.bool("normalize", true),
  };
  if (common.perClass !== null && common.perClass <= common.valPerClass) {
    ctx.bag.report("MEX3010", r.has("per_class") ? r.spanOf("per_class") : variant.span, { perClass: common.perClass, valPerClass: common.valPerClass });
  }
  checkDataFitsModel(variant.name, variant.span, ctx);
  if (synthetic) return { kind: "synthetic", seed: r.int("seed", 0, { ge: 0 }), ...common };
  const dir = r.string("dir") ?? DEFAULT_FASHION_DIR;
  return { kind: variant.name as "fashion_mnist" | "idx", dir: path.resolve(ctx.baseDir, dir), ...common };
}

/** Built-in datasets whose example shape and classes are known before any file is read (not idx). */
function checkDataFitsModel(kind: string, span: Span, ctx: TrainContext): void {
  const { input, classes } = ctx;
  if (kind === "synthetic") {
    if (input) {
      const image = syntheticImageShape(input);
      if (isShapeProblem(image)) ctx.bag.report("MEX3017", span, { data: "synthetic", input: formatShape(input), problem: image.problem, fix: image.fix });
    }
    if (classes != null && syntheticClassesProblem(classes)) {
      ctx.bag.report("MEX3018", span, { data: "synthetic", supported: `2..${SYNTHETIC_MAX_CLASSES}`, classes, fix: `use at most ${SYNTHETIC_MAX_CLASSES} classes` });
    }
  } else if (kind === "fashion_mnist") {
    const [h, w, c] = FASHION_MNIST_IMAGE;
    if (input && !inputTakes(input, FASHION_MNIST_IMAGE)) {
      ctx.bag.report("MEX3017", span, { data: "fashion_mnist", input: formatShape(input), problem: `its examples are ${h}x${w}x${c} images`, fix: `use input [${h}, ${w}, ${c}], or [${h * w * c}] for flattened images` });
    }
    if (classes != null && classes !== FASHION_MNIST_CLASSES) {
      ctx.bag.report("MEX3018", span, { data: "fashion_mnist", supported: String(FASHION_MNIST_CLASSES), classes, fix: `use classes ${FASHION_MNIST_CLASSES}` });
    }
  }
}

function readAugment(value: Value | undefined, ctx: TrainContext): AugmentIR[] {
  if (value === undefined || value.kind === "bad") return [];
  if (value.kind === "sym" && value.name === "none") return [];
  const items = value.kind === "list" ? value.items : [value];
  const result: AugmentIR[] = [];
  for (const item of items) {
    const variant = readVariant(item, "augment", AUGMENT_VARIANTS, ctx.env, ctx.bag);
    if (!variant) continue;
    if (variant.name === "flip") result.push({ kind: "flip" });
    else result.push({ kind: "crop", pad: variant.reader.int("pad", 4, { ge: 0, le: 64 }) });
  }
  return result;
}

function readOptimizer(value: Value | undefined, ctx: TrainContext): OptimizerIR {
  const fallback: OptimizerIR = { kind: "sgd", lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 0 };
  if (value === undefined) return fallback;
  const variant = readVariant(value, "optimizer", OPTIMIZER_VARIANTS, ctx.env, ctx.bag);
  if (!variant) return fallback;
  const r = variant.reader;
  const weightDecay = r.number("weight_decay", 0, { ge: 0 });
  if (variant.name === "sgd") {
    return {
      kind: "sgd",
      lr: r.number("lr", 0.1, { gt: 0, code: "MEX3007" }),
      momentum: r.number("momentum", 0.9, { ge: 0, lt: 1 }),
      nesterov: r.bool("nesterov", false),
      weightDecay,
    };
  }
  return {
    kind: "adam",
    lr: r.number("lr", 0.001, { gt: 0, code: "MEX3007" }),
    beta1: r.number("beta1", 0.9, { ge: 0, lt: 1 }),
    beta2: r.number("beta2", 0.999, { ge: 0, lt: 1 }),
    epsilon: r.number("epsilon", 1e-8, { gt: 0 }),
    weightDecay,
  };
}

function readSchedule(value: Value | undefined, epochs: number, ctx: TrainContext): ScheduleIR {
  if (value === undefined) return { kind: "constant" };
  const variant = readVariant(value, "schedule", SCHEDULE_VARIANTS, ctx.env, ctx.bag);
  if (!variant) return { kind: "constant" };
  const r = variant.reader;
  if (variant.name === "constant") return { kind: "constant" };
  if (variant.name === "cosine") return { kind: "cosine", minLr: r.number("min_lr", 0, { ge: 0 }) };
  const gamma = r.number("gamma", 0.1, { gt: 0, le: 1 });
  const list = r.intList("milestones", { ge: 1 });
  if (!list) return { kind: "multistep", milestones: [], gamma };
  checkMilestones(list.values, list.spans, epochs, ctx.bag, ctx.overridden?.has("train.epochs") ?? false);
  return { kind: "multistep", milestones: list.values, gamma };
}

/** A smoke-test run shortened with --set train.epochs=N keeps the spec's milestones, with a warning. */
function checkMilestones(values: readonly number[], spans: readonly Span[], epochs: number, bag: DiagnosticBag, epochsOverridden: boolean): void {
  values.forEach((value, i) => {
    if (i > 0 && value <= values[i - 1]!) bag.report("MEX3008", spans[i]!, { prev: values[i - 1]!, value });
    else if (value >= epochs) bag.report(epochsOverridden ? "MEX3906" : "MEX3009", spans[i]!, { value, epochs });
  });
}
