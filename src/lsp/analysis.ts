/**
 * What the language server computes, as pure functions over the checker's result (no protocol here,
 * so it is testable without a client): diagnostics with LSP ranges, hover text, completion items.
 * LSP positions are 0-based line/character in UTF-16 units; SourceFile positions are 1-based.
 */
import type { CheckResult, NodeInfo } from "../check/index.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { SourceFile } from "../diagnostics/source.js";
import type { ParamSpec } from "../check/args.js";
import type { Variant } from "../check/sections.js";
import type { ModelItem, SpecFile, StageDecl } from "../syntax/ast.js";
import { CODES } from "../diagnostics/codes.js";
import { LAYERS, BLOCKS } from "../ops/index.js";
import { formatShape } from "../ops/types.js";
import { formatCount } from "../check/model.js";
import { DISTILL_OPTIONS, TEACHER_MODES, TEMPERATURE_VARIANTS } from "../check/distill.js";
import { TRAIN_OPTIONS, DATA_VARIANTS, AUGMENT_VARIANTS, OPTIMIZER_VARIANTS, SCHEDULE_VARIANTS } from "../check/train.js";
import { tokenize, type MexToken } from "../syntax/parse.js";

export interface LspPosition {
  line: number;
  character: number;
}

export interface LspRange {
  start: LspPosition;
  end: LspPosition;
}

/** Offset -> 0-based LSP position (via the one place offsets become positions). */
export function toLspPosition(source: SourceFile, offset: number): LspPosition {
  const p = source.position(offset);
  return { line: p.line - 1, character: p.column - 1 };
}

export function toOffset(source: SourceFile, position: LspPosition): number {
  return source.offset(position.line + 1, position.character + 1);
}

export interface LspDiagnostic {
  range: LspRange;
  /** 1 error, 2 warning (DiagnosticSeverity). */
  severity: 1 | 2;
  code: string;
  source: "mex";
  message: string;
}

export function toLspDiagnostic(d: Diagnostic, source: SourceFile): LspDiagnostic {
  const chain = (d.chain ?? []).map((c) => `\nbecause ${c}`).join("");
  return {
    range: { start: toLspPosition(source, d.span.start), end: toLspPosition(source, Math.max(d.span.end, d.span.start)) },
    severity: d.severity === "error" ? 1 : 2,
    code: d.code,
    source: "mex",
    message: `${d.message}${chain}${d.hint ? `\nhint: ${d.hint}` : ""}`,
  };
}

// -------------------------------------------------------------------------------------------------
// Hover

export interface HoverResult {
  /** Markdown. */
  contents: string;
  range: LspRange;
}

const n = (x: number) => x.toLocaleString("en-US");

/** Hover for the layer, exit, stage or diagnostic code under `offset`, or null. */
export function hoverAt(result: CheckResult, offset: number): HoverResult | null {
  const range = (start: number, end: number): LspRange => ({ start: toLspPosition(result.source, start), end: toLspPosition(result.source, end) });
  const model = result.ast.models[0];
  if (model) {
    const named = namedDeclAt(model.items, offset);
    if (named) {
      const text = named.kind === "exit" ? exitHover(result, named.name) : stageHover(result, named.name);
      if (text) return { contents: text, range: range(named.span.start, named.span.end) };
    }
  }
  const info = innermostInfo(result.infos, offset);
  if (info) {
    const { node, count } = info;
    const def = LAYERS.get(node.layer);
    const lines = [
      `**${node.layer}** \`${node.name}\`${count > 1 ? ` (x${count}, repeated)` : ""}`,
      "",
      `output \`${formatShape(node.outShape)}\` from input \`${formatShape(node.inShape)}\``,
      "",
      `params ${n(node.params)} · MACs ${n(node.macs)}${node.macs >= 1e4 ? ` (${formatCount(node.macs)})` : ""}${count > 1 ? " (each)" : ""}`,
    ];
    if (def) lines.push("", def.doc);
    return { contents: lines.join("\n"), range: range(node.span.start, node.span.end) };
  }
  // A layer name without shape information (e.g. after an error): its documentation at least.
  const token = tokenAt(result.source.text, offset);
  if (token && token.type === "Ident") {
    const def = LAYERS.get(token.text);
    if (def && inLayerBody(result.source.text, token.span.start)) {
      return { contents: `**${def.name}** (shape unknown: fix the errors above it)\n\n${def.doc}\n\n${paramDocs(def.params)}`, range: range(token.span.start, token.span.end) };
    }
    if (/^MEX\d{4}$/.test(token.text) && token.text in CODES) {
      return { contents: `**${token.text}**: ${CODES[token.text as keyof typeof CODES].help}`, range: range(token.span.start, token.span.end) };
    }
  }
  return null;
}

/** The exit or stage whose name is under `offset`. */
function namedDeclAt(items: readonly ModelItem[], offset: number): { kind: "exit" | "stage"; name: string; span: { start: number; end: number } } | null {
  const within = (s: { start: number; end: number }) => s.start <= offset && offset <= s.end;
  for (const item of items) {
    if (item.kind === "exit") {
      if (within(item.name.span)) return { kind: "exit", name: item.name.name, span: item.name.span };
      if (within(item.after.span)) return { kind: "stage", name: item.after.name, span: item.after.span };
    }
    if (item.kind === "backbone") {
      for (const inner of item.items) if (inner.kind === "stage" && within(inner.name.span)) return { kind: "stage", name: inner.name.name, span: inner.name.span };
    }
  }
  return null;
}

function exitHover(result: CheckResult, name: string): string | null {
  const ir = result.ir;
  const exit = ir?.exits.find((e) => e.name === name);
  if (!ir || !exit) return `**exit ${name}**\n\n(costs are shown once the spec checks without errors)`;
  const teachers = ir.distill?.teachers[exit.index]?.map((t) => ir.exits[t]!.name) ?? [];
  return [
    `**exit ${exit.name}** after stage \`${exit.after}\``,
    "",
    `cumulative MACs ${n(exit.cumulativeMacs)} (${formatCount(exit.cumulativeMacs)}), **${(exit.fraction * 100).toFixed(1)}%** of the last exit`,
    "",
    `cumulative params ${n(exit.cumulativeParams)} · head params ${n(exit.params)} · head MACs ${n(exit.macs)}`,
    ...(ir.distill ? ["", `teachers T(${exit.name}) = {${teachers.join(", ")}}`] : []),
  ].join("\n");
}

function stageHover(result: CheckResult, name: string): string | null {
  const stage = result.ir?.stages.find((s) => s.name === name);
  if (!stage) return null;
  return [
    `**stage ${stage.name}**`,
    "",
    `output \`${formatShape(stage.outShape)}\` from input \`${formatShape(stage.inShape)}\``,
    "",
    `params ${n(stage.params)} · MACs ${n(stage.macs)} · backbone MACs up to here ${n(stage.cumulativeMacs)} (${formatCount(stage.cumulativeMacs)})`,
  ].join("\n");
}

/** The smallest info span containing `offset`; nodes from a `repeat` share a span and are counted. */
function innermostInfo(infos: readonly NodeInfo[], offset: number): { node: NodeInfo; count: number } | null {
  let best: NodeInfo | null = null;
  for (const info of infos) {
    if (info.span.start <= offset && offset <= info.span.end) {
      const size = info.span.end - info.span.start;
      if (!best || size < best.span.end - best.span.start) best = info;
    }
  }
  if (!best) return null;
  const count = infos.filter((i) => i.span.start === best!.span.start && i.span.end === best!.span.end && i.layer === best!.layer).length;
  return { node: best, count };
}

function paramDocs(params: readonly ParamSpec[]): string {
  if (params.length === 0) return "takes no arguments";
  return params.map((p) => `- \`${p.name}\`${p.default !== undefined ? ` = ${p.default}` : p.required ? " (required)" : ""}: ${p.doc}`).join("\n");
}

// -------------------------------------------------------------------------------------------------
// Context at the cursor

/** What encloses the cursor, innermost first. */
type Frame =
  | { kind: "model" }
  | { kind: "backbone" }
  | { kind: "layers" }
  | { kind: "section"; name: string; open: number }
  | { kind: "call"; callee: string; open: number; inLayers: boolean; sectionKey: string | null }
  | { kind: "list" }
  | { kind: "map" }
  | { kind: "other" };

/** Tokens before `offset` (no comments), and the frames open at `offset`. */
function contextAt(text: string, offset: number): { frames: Frame[]; tokens: MexToken[] } {
  const tokens = tokenize(text).filter((t) => t.category !== "comment" && t.span.end <= offset);
  const frames: Frame[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok.type === "LBrace") frames.push(braceFrame(tokens, i, frames));
    else if (tok.type === "LParen") {
      const prev = tokens[i - 1];
      const outer = frames[frames.length - 1];
      const inLayers = outer?.kind === "layers";
      const sectionKey = outer?.kind === "section" ? entryKey(tokens, i, outer.open) : null;
      frames.push(prev && prev.type === "Ident" ? { kind: "call", callee: prev.text, open: i, inLayers, sectionKey } : { kind: "other" });
    } else if (tok.type === "LBracket") frames.push({ kind: "list" });
    else if (tok.type === "RBrace" || tok.type === "RParen" || tok.type === "RBracket") frames.pop();
  }
  return { frames: frames.reverse(), tokens };
}

function braceFrame(tokens: readonly MexToken[], i: number, open: readonly Frame[]): Frame {
  const prev = tokens[i - 1];
  const outer = open[open.length - 1];
  if (!prev) return { kind: "other" };
  if (!outer) return prev.type === "Ident" && tokens[i - 2]?.type === "Model" ? { kind: "model" } : { kind: "other" };
  switch (outer.kind) {
    case "layers":
      // Inside a layer body every `{` opens another body (repeat N {, residual {, shortcut {, concat {).
      return { kind: "layers" };
    case "backbone":
      return tokens[i - 2]?.type === "Stage" ? { kind: "layers" } : { kind: "other" };
    case "model":
      return modelItemBrace(tokens, i);
    default:
      return { kind: "map" };
  }
}

/** A `{` directly inside the model: backbone, an exit head, or a section (`NAME {`). */
function modelItemBrace(tokens: readonly MexToken[], i: number): Frame {
  const prev = tokens[i - 1]!;
  if (prev.type === "Backbone") return { kind: "backbone" };
  // Walk back over the header: `exit E after S [teachers X]` makes it a head; reaching the previous
  // item (another keyword, or the body of the previous item) makes `NAME {` a section.
  for (let j = i - 1; j >= 0; j--) {
    const t = tokens[j]!;
    if (t.type === "RBrace" || t.type === "RParen" || t.type === "RBracket") {
      const k = matchingOpen(tokens, j);
      if (k < 0) break;
      if (t.type === "RBrace" && tokens[k - 1]?.type !== "Teachers") break;
      j = k;
      continue;
    }
    if (t.type === "Exit" || t.type === "Teachers" || t.type === "After") return { kind: "layers" };
    if (t.category === "keyword" || t.type === "LBrace" || t.type === "LParen" || t.type === "LBracket") break;
  }
  return prev.type === "Ident" ? { kind: "section", name: prev.text, open: i } : { kind: "other" };
}

function matchingOpen(tokens: readonly MexToken[], close: number): number {
  let depth = 0;
  for (let j = close; j >= 0; j--) {
    const t = tokens[j]!.type;
    if (t === "RBrace" || t === "RParen" || t === "RBracket") depth++;
    else if (t === "LBrace" || t === "LParen" || t === "LBracket") {
      depth--;
      if (depth === 0) return j;
    }
  }
  return -1;
}

/** The entry key (`data` in `data: idx(`) of the value that contains token `i`, within a section. */
function entryKey(tokens: readonly MexToken[], i: number, sectionOpen: number): string | null {
  let depth = 0;
  for (let j = i - 1; j > sectionOpen; j--) {
    const t = tokens[j]!;
    if (t.type === "RParen" || t.type === "RBracket" || t.type === "RBrace") depth++;
    else if (t.type === "LParen" || t.type === "LBracket" || t.type === "LBrace") depth--;
    else if (depth === 0 && t.type === "Colon") return tokens[j - 1]?.text ?? null;
  }
  return null;
}

function tokenAt(text: string, offset: number): MexToken | undefined {
  return tokenize(text).find((t) => t.span.start <= offset && offset <= t.span.end && t.category !== "comment");
}

function inLayerBody(text: string, offset: number): boolean {
  return contextAt(text, offset).frames[0]?.kind === "layers";
}

// -------------------------------------------------------------------------------------------------
// Completion

export interface CompletionEntry {
  label: string;
  /** CompletionItemKind: 3 Function (layer), 14 Keyword, 5 Field (parameter/option), 12 Value, 7 Class (variant). */
  kind: number;
  detail?: string;
  documentation?: string;
  insertText?: string;
}

const KIND = { function: 3, field: 5, class: 7, value: 12, keyword: 14, variable: 6 } as const;

const SECTION_OPTIONS: Record<string, readonly { name: string; doc: string; default: string }[]> = { distill: DISTILL_OPTIONS, train: TRAIN_OPTIONS };

/** Variants accepted as the value of `section.key`. */
const VALUE_VARIANTS: Record<string, readonly Variant[]> = {
  "distill.temperature": TEMPERATURE_VARIANTS,
  "train.data": DATA_VARIANTS,
  "train.augment": AUGMENT_VARIANTS,
  "train.optimizer": OPTIMIZER_VARIANTS,
  "train.schedule": SCHEDULE_VARIANTS,
};

/** Keyword values of parameters, by parameter name. */
const PARAM_VALUES: Record<string, readonly string[]> = {
  padding: ["same", "valid"],
  bias: ["true", "false"],
  nesterov: ["true", "false"],
  normalize: ["true", "false"],
  groups: ["depthwise"],
  per_class: ["all"],
  test_per_class: ["all"],
};

const MODEL_KEYWORDS: readonly { name: string; doc: string; insert: string }[] = [
  { name: "input", doc: "input shape per example: [height, width, channels] or [features]", insert: "input " },
  { name: "classes", doc: "number of classes", insert: "classes " },
  { name: "let", doc: "an integer constant", insert: "let " },
  { name: "backbone", doc: "the chain of stages", insert: "backbone {\n}" },
  { name: "exit", doc: "a classifier head after a stage: exit NAME after STAGE { ... dense(classes) }", insert: "exit " },
  { name: "distill", doc: "distillation section (teachers, weight, temperature)", insert: "distill {\n}" },
  { name: "train", doc: "training section (data, optimizer, schedule, ...)", insert: "train {\n}" },
];

function layerCompletions(): CompletionEntry[] {
  const layers = [...LAYERS.values()].map((def) => ({
    label: def.name,
    kind: KIND.function,
    detail: def.params.length > 0 ? `${def.name}(${def.params.map((p) => (p.positional ? p.name : `${p.name}=`)).join(", ")})` : def.name,
    documentation: `${def.doc}\n\n${paramDocs(def.params)}`,
  }));
  const blocks = BLOCKS.map((b) => ({
    label: b,
    kind: KIND.keyword,
    documentation: b === "repeat" ? "repeat N { layers }: the layers N times" : b === "residual" ? "residual { body } [shortcut { ... }]: body(x) + shortcut(x)" : "concat { body }: concat(x, body(x)) along channels",
  }));
  return [...layers, ...blocks];
}

function paramCompletions(params: readonly ParamSpec[], callee: string): CompletionEntry[] {
  return params.map((p) => ({
    label: p.name,
    kind: KIND.field,
    detail: `${callee} ${p.name}${p.default !== undefined ? ` = ${p.default}` : p.required ? " (required)" : ""}`,
    documentation: p.doc,
    insertText: `${p.name}=`,
  }));
}

function valueCompletions(values: readonly string[], detail: string): CompletionEntry[] {
  return values.map((v) => ({ label: v, kind: KIND.value, detail }));
}

function variantCompletions(variants: readonly Variant[]): CompletionEntry[] {
  return variants.map((v) => ({ label: v.name, kind: KIND.class, detail: v.params.length > 0 ? `${v.name}(${v.params.map((p) => p.name).join(", ")})` : v.name, documentation: `${v.doc}\n\n${paramDocs(v.params)}` }));
}

function constantCompletions(ast: SpecFile): CompletionEntry[] {
  const names = new Set<string>(["classes"]);
  const model = ast.models[0];
  for (const item of model?.items ?? []) {
    if (item.kind === "let") names.add(item.name.name);
    if (item.kind === "backbone") for (const inner of item.items) if (inner.kind === "let") names.add(inner.name.name);
  }
  return [...names].map((name) => ({ label: name, kind: KIND.variable, detail: name === "classes" ? "the number of classes" : "constant" }));
}

function stageNames(ast: SpecFile): string[] {
  const backbone = ast.models[0]?.items.find((i) => i.kind === "backbone");
  return backbone && backbone.kind === "backbone" ? backbone.items.filter((i): i is StageDecl => i.kind === "stage").map((s) => s.name.name) : [];
}

function exitNames(ast: SpecFile): string[] {
  return (ast.models[0]?.items ?? []).flatMap((i) => (i.kind === "exit" ? [i.name.name] : []));
}

/** Completion items at `offset` of `text` (`ast` may be partial). */
export function completionsAt(text: string, offset: number, ast: SpecFile): CompletionEntry[] {
  const { frames, tokens } = contextAt(text, offset);
  const frame = frames[0];
  const last = tokens[tokens.length - 1];
  // Right after `after` in an exit header: stage names.
  if (last?.type === "After") return valueCompletions(stageNames(ast), "stage");
  if (!frame) return [{ label: "model", kind: KIND.keyword, insertText: "model ", documentation: "model NAME { ... }: the one model of the file" }];
  switch (frame.kind) {
    case "layers":
      return layerCompletions();
    case "backbone":
      return [
        { label: "stage", kind: KIND.keyword, insertText: "stage ", documentation: "stage NAME { layers }: one segment of the backbone; exits attach after stages" },
        { label: "let", kind: KIND.keyword, insertText: "let ", documentation: "an integer constant" },
      ];
    case "model":
      return MODEL_KEYWORDS.map((k) => ({ label: k.name, kind: KIND.keyword, documentation: k.doc, insertText: k.insert }));
    case "section":
      return sectionCompletions(frame.name, tokens, frame.open, text, offset, ast);
    case "call": {
      const afterEquals = last?.type === "Equals" ? tokens[tokens.length - 2]?.text : undefined;
      if (afterEquals) return [...valueCompletions(PARAM_VALUES[afterEquals] ?? [], afterEquals), ...constantCompletions(ast)];
      if (frame.inLayers) {
        const def = LAYERS.get(frame.callee);
        return def ? [...paramCompletions(def.params, def.name), ...constantCompletions(ast)] : [];
      }
      const variant = Object.values(VALUE_VARIANTS).flat().find((v) => v.name === frame.callee);
      return variant ? paramCompletions(variant.params, variant.name) : [];
    }
    case "list":
    case "map": {
      const inTeachers = tokens.some((t) => t.type === "Teachers") || frames.some((f) => f.kind === "section" && f.name === "distill");
      const section = frames.find((f) => f.kind === "section");
      if (section && section.kind === "section" && section.name === "train") return variantCompletions(AUGMENT_VARIANTS);
      return inTeachers ? valueCompletions(exitNames(ast), "exit") : constantCompletions(ast);
    }
    default:
      return [];
  }
}

function sectionCompletions(section: string, tokens: readonly MexToken[], open: number, text: string, offset: number, ast: SpecFile): CompletionEntry[] {
  // Value position: a `key:` on the cursor's line, after the last separator.
  const lineStart = Math.max(text.lastIndexOf("\n", offset - 1), text.lastIndexOf("\r", offset - 1)) + 1;
  let key: string | null = null;
  for (let j = tokens.length - 1; j > open; j--) {
    const t = tokens[j]!;
    if (t.span.start < lineStart || t.type === "Comma" || t.type === "Semicolon") break;
    if (t.type === "Colon") {
      key = tokens[j - 1]?.text ?? null;
      break;
    }
  }
  if (key === null) {
    const options = SECTION_OPTIONS[section] ?? [];
    return options.map((o) => ({ label: o.name, kind: KIND.field, detail: `${section} ${o.name} (default ${o.default})`, documentation: o.doc, insertText: `${o.name}: ` }));
  }
  if (section === "distill" && key === "teachers") return [...TEACHER_MODES.map((t) => ({ label: t.name, kind: KIND.value, documentation: t.doc })), { label: "{ e1 <- [e2] }", kind: KIND.value, insertText: "{  }", documentation: "explicit teacher sets" }];
  const variants = VALUE_VARIANTS[`${section}.${key}`];
  if (variants) return variantCompletions(variants);
  return constantCompletions(ast);
}
