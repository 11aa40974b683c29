/**
 * The checker: a parsed model declaration -> ModelIR, reporting every problem it can find in one pass.
 * Order: declarations and constants, input/classes, backbone stages (shapes), exits (structure and
 * heads), distill, train, resource guard, cost warnings.
 */
import * as path from "node:path";
import { createHash } from "node:crypto";
import type { ExitIR, LayerNode, ModelIR, Shape, Span, StageIR } from "../ir/model.js";
import type { Expr, LetDecl, ModelDecl, ModelItem, StageDecl } from "../syntax/ast.js";
import { DiagnosticBag } from "../diagnostics/diagnostic.js";
import { numel } from "../ops/types.js";
import { readInt } from "./args.js";
import { checkDistill, type ExitRef } from "./distill.js";
import { lowerItems, Scope, sumCosts, type LowerContext, type NodeInfo } from "./layers.js";
import { didYouMean } from "./suggest.js";
import { checkTrain } from "./train.js";
import { describe, evaluate, type Env, type Value } from "./values.js";

export interface CheckLimits {
  /** Maximum trainable parameters (default 2^31). */
  readonly maxParams: number;
  /** Maximum activation values per example, summed over all layers (default 2^28, 1 GiB of float32). */
  readonly maxActivations: number;
  /** Maximum layers after expanding repeats (default 100,000). */
  readonly maxLayers: number;
}

export const DEFAULT_LIMITS: CheckLimits = { maxParams: 2 ** 31, maxActivations: 2 ** 28, maxLayers: 100_000 };

export interface ModelCheck {
  readonly ir: ModelIR | null;
  readonly infos: readonly NodeInfo[];
}

type ExitItem = Extract<ModelItem, { kind: "exit" }>;
type SectionItem = Extract<ModelItem, { kind: "section" }>;

export const SECTIONS = ["distill", "train"] as const;

export function checkModel(model: ModelDecl, source: string, file: string, bag: DiagnosticBag, limits: CheckLimits = DEFAULT_LIMITS, overridden: ReadonlySet<string> = new Set()): ModelCheck {
  const decls = collect(model, bag);
  const env = new ConstantEnv(decls.lets, decls.classes?.value ?? null, bag);
  const infos: NodeInfo[] = [];

  const classes = readClasses(decls.classes, model, env, bag);
  const input = readInput(decls.input, model, env, bag);
  env.evaluateAll();

  const ctx: LowerContext = { bag, env, layers: 0, maxLayers: limits.maxLayers, activations: input ? numel(input) : 0, infos };
  const stages = checkStages(decls.stages, decls.backbone, model, input, ctx);
  const exits = checkExits(decls.exits, decls.stages, stages, classes, ctx);
  // The resource guard needs only the network; errors in distill/train must not hide it.
  const networkChecked = !bag.hasErrors && input !== null && classes !== null && stages.every((s) => s !== null);

  const exitRefs: ExitRef[] = exits.map((e, index) => ({ name: e.item.name.name, index, nameSpan: e.item.name.span, clause: e.item.teachers ? evaluate(e.item.teachers, env, bag) : null }));
  const distillSection = decls.sections.get("distill");
  const distill = checkDistill(distillSection?.entries ?? null, distillSection?.span ?? null, exitRefs, env, bag);
  const baseDir = file.startsWith("<") ? process.cwd() : path.dirname(path.resolve(file));
  const train = checkTrain(decls.sections.get("train")?.entries ?? null, { env, bag, baseDir, overridden, input, classes });

  env.reportUnused();
  if (!networkChecked) return { ir: null, infos };

  const stageIRs = stages as StageIR[];
  const exitIRs = finishExits(exits, stageIRs);
  const totals = sumCosts([...stageIRs.flatMap((s) => s.nodes), ...exitIRs.flatMap((e) => e.head)]);
  if (!guardResources(totals.params + totals.buffers, ctx.activations, model.name.span, limits, bag)) return { ir: null, infos };
  if (bag.hasErrors) return { ir: null, infos };
  warnCostlyExits(exitIRs, bag);

  const ir: ModelIR = {
    name: model.name.name,
    input,
    classes,
    stages: stageIRs,
    exits: exitIRs,
    distill,
    train,
    ...totals,
    activations: ctx.activations,
    source,
    sourceHash: createHash("sha256").update(source).digest("hex"),
    file,
  };
  return { ir, infos };
}

interface Declarations {
  input: Extract<ModelItem, { kind: "input" }> | null;
  classes: Extract<ModelItem, { kind: "classes" }> | null;
  backbone: Extract<ModelItem, { kind: "backbone" }> | null;
  stages: StageDecl[];
  exits: ExitItem[];
  lets: LetDecl[];
  sections: Map<string, SectionItem>;
}

/** Sorts model items by kind, reporting duplicates, unknown sections and name clashes. */
function collect(model: ModelDecl, bag: DiagnosticBag): Declarations {
  const decls: Declarations = { input: null, classes: null, backbone: null, stages: [], exits: [], lets: [], sections: new Map() };
  const single = (item: ModelItem & { kind: "input" | "classes" | "backbone" }, what: string) => {
    if (decls[item.kind]) bag.report("MEX2015", keywordSpan(item.span, item.kind), { what });
    else (decls as unknown as Record<string, ModelItem>)[item.kind] = item;
  };
  for (const item of model.items) {
    switch (item.kind) {
      case "input":
        single(item, "input declaration");
        break;
      case "classes":
        single(item, "classes declaration");
        break;
      case "backbone":
        single(item, "backbone");
        for (const inner of item.items) (inner.kind === "stage" ? decls.stages : decls.lets).push(inner as never);
        break;
      case "exit":
        decls.exits.push(item);
        break;
      case "let":
        decls.lets.push(item);
        break;
      case "section":
        collectSection(item, decls, bag);
        break;
    }
  }
  decls.lets.sort((a, b) => a.span.start - b.span.start);
  reportDuplicateNames(decls, bag);
  return decls;
}

function collectSection(item: SectionItem, decls: Declarations, bag: DiagnosticBag): void {
  const name = item.name.name;
  if (!(SECTIONS as readonly string[]).includes(name)) {
    if (name !== "") {
      const hint = didYouMean(name, SECTIONS);
      bag.report("MEX2003", item.name.span, { name }, hint ? { hint } : {});
    }
    return;
  }
  if (decls.sections.has(name)) bag.report("MEX2015", item.name.span, { what: `${name} section` });
  else decls.sections.set(name, item);
}

/** Stages, exits and constants share one namespace. */
function reportDuplicateNames(decls: Declarations, bag: DiagnosticBag): void {
  const seen = new Map<string, string>();
  const named: { kind: string; name: { name: string; span: Span } }[] = [
    ...decls.lets.map((l) => ({ kind: "constant", name: l.name })),
    ...decls.stages.map((s) => ({ kind: "stage", name: s.name })),
    ...decls.exits.map((e) => ({ kind: "exit", name: e.name })),
  ].sort((a, b) => a.name.span.start - b.name.span.start);
  for (const { kind, name } of named) {
    if (name.name === "") continue;
    const previous = seen.get(name.name);
    if (previous === kind) bag.report("MEX2005", name.span, { kind, name: name.name });
    else if (previous) bag.report("MEX2005", name.span, { kind: "name", name: name.name }, { hint: `'${name.name}' is already a ${previous}: stages, exits and constants share one namespace` });
    else seen.set(name.name, kind);
  }
}

/** Span of the leading keyword of a declaration (for "duplicate input" and similar). */
function keywordSpan(span: Span, keyword: string): Span {
  return { start: span.start, end: span.start + keyword.length };
}

/**
 * Constants, evaluated on first use. A constant may only be used after its `let` (source order);
 * `classes` is visible everywhere.
 */
class ConstantEnv implements Env {
  private readonly values = new Map<string, Value>();
  private readonly declared = new Map<string, LetDecl>();
  private readonly used = new Set<string>();
  private readonly inProgress = new Set<string>();
  private classesValue: Value | undefined;

  constructor(
    lets: readonly LetDecl[],
    private readonly classesExpr: Expr | null,
    private readonly bag: DiagnosticBag,
  ) {
    for (const decl of lets) if (!this.declared.has(decl.name.name)) this.declared.set(decl.name.name, decl);
  }

  /** The evaluated `classes` expression (evaluated once). */
  classes(): Value | undefined {
    if (this.classesValue === undefined && this.classesExpr) {
      this.classesValue = { kind: "bad", span: this.classesExpr.span }; // guards `classes classes`
      this.classesValue = evaluate(this.classesExpr, this, this.bag);
    }
    return this.classesValue;
  }

  lookup(name: string, span: Span): Value | undefined {
    // Without a `classes` declaration (already reported as MEX2014) uses are silent, not "unknown name".
    if (name === "classes") return this.classes() ?? { kind: "bad", span };
    const decl = this.declared.get(name);
    if (!decl) return undefined;
    if (span.start < decl.span.start || this.inProgress.has(name)) {
      this.bag.report("MEX2020", span, { name });
      return { kind: "bad", span };
    }
    return this.valueOf(decl);
  }

  private valueOf(decl: LetDecl): Value {
    const name = decl.name.name;
    let value = this.values.get(name);
    if (!value) {
      this.inProgress.add(name);
      value = evaluate(decl.value, this, this.bag);
      this.inProgress.delete(name);
      this.values.set(name, value);
    }
    return value;
  }

  /** Evaluates constants nothing refers to, so their errors are reported too. */
  evaluateAll(): void {
    for (const decl of this.declared.values()) this.valueOf(decl);
  }

  use(name: string): void {
    this.used.add(name);
  }

  names(): string[] {
    return [...this.declared.keys(), "classes"];
  }

  reportUnused(): void {
    for (const [name, decl] of this.declared) {
      if (!this.used.has(name)) this.bag.report("MEX3905", decl.name.span, { name });
    }
  }
}

function readClasses(decl: Declarations["classes"], model: ModelDecl, env: ConstantEnv, bag: DiagnosticBag): number | null {
  if (!decl) {
    bag.report("MEX2014", model.name.span, { what: "classes declaration" }, { hint: "add e.g. `classes 10` to the model" });
    return null;
  }
  const value = env.classes();
  if (!value || value.kind === "bad") return null;
  if (value.kind !== "num" || !value.isInt || value.value < 2) {
    bag.report("MEX3005", value.span, { value: describe(value) });
    return null;
  }
  return value.value;
}

function readInput(decl: Declarations["input"], model: ModelDecl, env: ConstantEnv, bag: DiagnosticBag): Shape | null {
  if (!decl) {
    bag.report("MEX2014", model.name.span, { what: "input declaration" }, { hint: "add e.g. `input [28, 28, 1]` (height, width, channels)" });
    return null;
  }
  const value = evaluate(decl.value, env, bag);
  if (value.kind === "bad") return null;
  const items = value.kind === "list" ? value.items : null;
  if (!items || (items.length !== 1 && items.length !== 3)) {
    bag.report("MEX3015", value.span, { value: describe(value) });
    return null;
  }
  const dims: number[] = [];
  for (const item of items) {
    const n = readInt(item, "input dimension", { ge: 1 }, env, bag);
    if (n === undefined) return null;
    dims.push(n);
  }
  return dims;
}

function checkStages(stages: readonly StageDecl[], backbone: Declarations["backbone"], model: ModelDecl, input: Shape | null, ctx: LowerContext): (StageIR | null)[] {
  if (!backbone) {
    ctx.bag.report("MEX2014", model.name.span, { what: "backbone" }, { hint: "add `backbone { stage s1 { conv(32) bn relu } }`" });
    return [];
  }
  if (stages.length === 0) {
    ctx.bag.report("MEX2014", keywordSpan(backbone.span, "backbone"), { what: "stages in the backbone" }, { hint: "add `stage s1 { ... }` inside backbone" });
    return [];
  }
  const result: (StageIR | null)[] = [];
  let shape = input;
  let cumulative = 0;
  stages.forEach((stage, index) => {
    if (stage.body.length === 0) ctx.bag.report("MEX2024", stage.name.span);
    const lowered = lowerItems(stage.body, shape, new Scope(stage.name.name), ctx);
    if (shape === null || lowered.outShape === null) {
      result.push(null);
      shape = lowered.outShape;
      return;
    }
    const costs = sumCosts(lowered.nodes);
    cumulative += costs.macs;
    result.push({ name: stage.name.name, index, nodes: lowered.nodes, inShape: shape, outShape: lowered.outShape, ...costs, cumulativeMacs: cumulative, span: stage.span });
    shape = lowered.outShape;
  });
  return result;
}

interface CheckedExit {
  readonly item: ExitItem;
  readonly stageIndex: number;
  readonly head: LayerNode[];
  readonly outShape: Shape | null;
}

/** Exit structure (after a known stage, one per stage, one after the last) and head shapes. */
function checkExits(items: readonly ExitItem[], stageDecls: readonly StageDecl[], stages: readonly (StageIR | null)[], classes: number | null, ctx: LowerContext): CheckedExit[] {
  const { bag } = ctx;
  const byStage = new Map<number, ExitItem>();
  const stageNames = stageDecls.map((s) => s.name.name);
  const checked: CheckedExit[] = [];
  const seenNames = new Set<string>();
  for (const item of items) {
    if (seenNames.has(item.name.name)) continue; // duplicate name already reported
    seenNames.add(item.name.name);
    const stageIndex = stageNames.indexOf(item.after.name);
    if (stageIndex < 0) {
      if (item.after.name !== "" && stages.length > 0) {
        const hint = didYouMean(item.after.name, stageNames);
        bag.report("MEX2006", item.after.span, { exit: item.name.name, name: item.after.name }, hint ? { hint } : {});
      }
      continue;
    }
    const previous = byStage.get(stageIndex);
    if (previous) {
      bag.report("MEX2007", item.after.span, { stage: item.after.name, first: previous.name.name, second: item.name.name });
      continue;
    }
    byStage.set(stageIndex, item);
    const stage = stages[stageIndex];
    const lowered = lowerItems(item.head, stage ? stage.outShape : null, new Scope(item.name.name), ctx);
    checkHeadEnd(item, lowered.nodes, lowered.outShape, classes, bag);
    checked.push({ item, stageIndex, head: lowered.nodes, outShape: lowered.outShape });
  }
  const lastStage = stages.length - 1;
  // Any exit written after the last stage counts, even one dropped above for a duplicate name.
  if (lastStage >= 0 && !items.some((item) => item.after.name === stageNames[lastStage])) {
    bag.report("MEX2008", stageDecls[lastStage]!.name.span, { stage: stageNames[lastStage]! });
  }
  return checked.sort((a, b) => a.stageIndex - b.stageIndex);
}

/** Every head produces `classes` logits from a final dense layer. */
function checkHeadEnd(item: ExitItem, nodes: readonly LayerNode[], outShape: Shape | null, classes: number | null, bag: DiagnosticBag): void {
  if (item.head.length === 0) {
    bag.report("MEX2025", item.name.span, { name: item.name.name });
    return;
  }
  if (outShape === null || classes === null) return;
  const last = nodes[nodes.length - 1];
  const lastItem = item.head[item.head.length - 1]!;
  const isDense = last?.kind === "op" && last.op === "dense";
  if (isDense && outShape.length === 1 && outShape[0] === classes) return;
  const got = isDense ? `dense(${outShape[0]})` : lastItem.kind === "layer" ? lastItem.name.name : lastItem.kind;
  bag.report("MEX3006", lastItem.span, { name: item.name.name, got, classes });
}

function finishExits(exits: readonly CheckedExit[], stages: readonly StageIR[]): ExitIR[] {
  const draft = exits.map((exit, index) => {
    const stage = stages[exit.stageIndex]!;
    const head = sumCosts(exit.head);
    const backboneParams = stages.slice(0, exit.stageIndex + 1).reduce((sum, s) => sum + s.params, 0);
    return {
      name: exit.item.name.name,
      index,
      after: stage.name,
      stageIndex: exit.stageIndex,
      head: exit.head,
      inShape: stage.outShape,
      outShape: exit.outShape!,
      ...head,
      cumulativeMacs: stage.cumulativeMacs + head.macs,
      cumulativeParams: backboneParams + head.params,
      span: exit.item.span,
    };
  });
  const lastMacs = draft[draft.length - 1]?.cumulativeMacs ?? 1;
  return draft.map((exit) => ({ ...exit, fraction: lastMacs > 0 ? exit.cumulativeMacs / lastMacs : 1 }));
}

function guardResources(params: number, activations: number, span: Span, limits: CheckLimits, bag: DiagnosticBag): boolean {
  let ok = true;
  if (params > limits.maxParams) {
    bag.report("MEX4010", span, { params: formatCount(params), limit: formatCount(limits.maxParams) });
    ok = false;
  }
  if (activations > limits.maxActivations) {
    bag.report("MEX4011", span, { elements: formatCount(activations), limit: formatCount(limits.maxActivations) });
    ok = false;
  }
  return ok;
}

/** An exit costing > 90% of the next one saves little. */
function warnCostlyExits(exits: readonly ExitIR[], bag: DiagnosticBag): void {
  for (let i = 0; i + 1 < exits.length; i++) {
    const exit = exits[i]!;
    const next = exits[i + 1]!;
    if (next.cumulativeMacs > 0 && exit.cumulativeMacs > 0.9 * next.cumulativeMacs) {
      bag.report("MEX3902", exit.span, {
        name: exit.name,
        next: next.name,
        percent: Math.round((100 * exit.cumulativeMacs) / next.cumulativeMacs),
        macs: formatCount(exit.cumulativeMacs),
        nextMacs: formatCount(next.cumulativeMacs),
      });
    }
  }
}

/** 1234567 -> "1.23M"; exact below 10,000. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const units: [number, string][] = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "K"]];
  if (Math.abs(n) < 1e4) return String(n);
  for (const [scale, suffix] of units) {
    if (Math.abs(n) >= scale) return `${(n / scale).toPrecision(3)}${suffix}`;
  }
  return String(n);
}
