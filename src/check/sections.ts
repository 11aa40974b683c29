/** Generic reading of `name { key: value ... }` sections and of option values with variants. */
import type { Span } from "../ir/model.js";
import type { Entry } from "../syntax/ast.js";
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import { bindArgs, type ArgReader, type ParamSpec } from "./args.js";
import { didYouMean } from "./suggest.js";
import { describe, evaluate, type Env, type Value } from "./values.js";

export interface OptionSpec {
  readonly name: string;
  readonly doc: string;
  readonly default: string;
}

/** Evaluates a section's entries, reporting unknown (did-you-mean) and duplicate keys. */
export function readEntries(
  section: string,
  entries: readonly Entry[],
  options: readonly OptionSpec[],
  env: Env,
  bag: DiagnosticBag,
): Map<string, { value: Value; keySpan: Span; span: Span }> {
  const result = new Map<string, { value: Value; keySpan: Span; span: Span }>();
  const names = options.map((o) => o.name);
  for (const entry of entries) {
    const key = entry.key.name;
    if (!names.includes(key)) {
      if (key !== "") {
        const hint = didYouMean(key, names);
        bag.report("MEX2004", entry.key.span, { name: key, section }, hint ? { hint } : {});
      }
      continue;
    }
    if (result.has(key)) {
      bag.report("MEX2015", entry.key.span, { what: `option '${key}' in ${section}` });
      continue;
    }
    result.set(key, { value: evaluate(entry.value, env, bag), keySpan: entry.key.span, span: entry.span });
  }
  return result;
}

/** One accepted form of an option value: `adaptive(start=1, ...)`, `sgd(lr=0.1)`, `flip`. */
export interface Variant {
  readonly name: string;
  readonly doc: string;
  readonly params: readonly ParamSpec[];
}

/**
 * Reads `name(args)` or a bare `name` as one of `variants`; reports unknown names with
 * did-you-mean and wrong kinds of values. Returns undefined after reporting.
 */
export function readVariant(
  value: Value,
  option: string,
  variants: readonly Variant[],
  env: Env,
  bag: DiagnosticBag,
): { name: string; reader: ArgReader; span: Span } | undefined {
  if (value.kind === "bad") return undefined;
  const names = variants.map((v) => v.name);
  if (value.kind !== "call" && value.kind !== "sym") {
    bag.report("MEX2023", value.span, { expected: `one of ${names.map((n) => `${n}(...)`).join(", ")}`, got: describe(value) });
    return undefined;
  }
  const name = value.name;
  const nameSpan = value.kind === "call" ? value.nameSpan : value.span;
  const variant = variants.find((v) => v.name === name);
  if (!variant) {
    const hint = didYouMean(name, names);
    bag.report("MEX2021", nameSpan, { value: name, option }, hint ? { hint } : {});
    return undefined;
  }
  const args = value.kind === "call" ? value.args : null;
  if (variant.params.length === 0 && args && args.length > 0) {
    bag.report("MEX2022", args[0]!.span, { what: name });
    return undefined;
  }
  return { name, reader: bindArgs(args, variant.params, name, value.span, env, bag), span: value.span };
}
