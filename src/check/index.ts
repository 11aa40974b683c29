/** The front end in one call: text -> syntax tree -> checked IR, with every diagnostic. */
import type { ModelIR } from "../ir/model.js";
import type { SpecFile } from "../syntax/ast.js";
import { DiagnosticBag, type Diagnostic } from "../diagnostics/diagnostic.js";
import { SourceFile } from "../diagnostics/source.js";
import { parse } from "../syntax/parse.js";
import { checkModel, DEFAULT_LIMITS, type CheckLimits } from "./model.js";
import type { NodeInfo } from "./layers.js";
import { exceedsExpressionDepth } from "./depth.js";

export interface CheckOptions {
  readonly limits?: Partial<CheckLimits>;
  /** `section.option` keys overridden with --set (see src/check/overrides.ts). */
  readonly overridden?: ReadonlySet<string>;
}

export interface CheckResult {
  /** The checked model; null when any error was reported. */
  readonly ir: ModelIR | null;
  /** Errors and warnings in source order, without duplicates. */
  readonly diagnostics: readonly Diagnostic[];
  readonly source: SourceFile;
  readonly ast: SpecFile;
  /** Shapes and costs of every layer that could be inferred (for hover), even when there are errors. */
  readonly infos: readonly NodeInfo[];
}

export function checkSource(text: string, file = "<input>", options: CheckOptions = {}): CheckResult {
  const source = new SourceFile(file, text);
  const parsed = parse(text, file);
  const bag = new DiagnosticBag(file);
  for (const d of parsed.diagnostics) bag.add(d);
  const model = parsed.ast.models[0];
  // Later phases do not run on input that failed to parse: their findings would be noise.
  if (bag.hasErrors || !model) return finish(null, bag, source, parsed.ast, []);
  // Expressions are evaluated recursively: a 200,000-term sum must be rejected, not overflow the stack.
  if (exceedsExpressionDepth(model, bag)) return finish(null, bag, source, parsed.ast, []);
  try {
    const { ir, infos } = checkModel(model, text, file, bag, { ...DEFAULT_LIMITS, ...options.limits }, options.overridden);
    return finish(ir, bag, source, parsed.ast, infos);
  } catch (error) {
    // Hostile input must never crash the tool: an internal failure becomes a diagnostic.
    bag.report("MEX1011", model.name.span, { found: "input", context: ` (internal checker error: ${(error as Error).message})` });
    return finish(null, bag, source, parsed.ast, []);
  }
}

function finish(ir: ModelIR | null, bag: DiagnosticBag, source: SourceFile, ast: SpecFile, infos: readonly NodeInfo[]): CheckResult {
  return { ir: bag.hasErrors ? null : ir, diagnostics: dedupe(bag.sorted()), source, ast, infos };
}

/** The same finding at the same place (e.g. from a repeated block) is reported once. */
function dedupe(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.code}:${d.span.start}:${d.span.end}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export { DEFAULT_LIMITS, type CheckLimits } from "./model.js";
export type { NodeInfo } from "./layers.js";
