/**
 * Binding call arguments (`conv(32, kernel=3)`, `sgd(lr=0.1)`) to declared parameters, and typed
 * reading of the bound values. Parameters are declared as data (`ParamSpec`) so docs, the LSP's
 * completion and the checker all read one table.
 */
import type { Span } from "../ir/model.js";
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { Code } from "../diagnostics/codes.js";
import { didYouMean } from "./suggest.js";
import { describe, reportNotNumber, type BoundArg, type Env, type Value } from "./values.js";

export interface ParamSpec {
  readonly name: string;
  /** Human description, shown in the README, `--help` and the LSP. */
  readonly doc: string;
  /** Default as written in the language (`"3"`, `"same"`), or undefined when required. */
  readonly default?: string;
  /** May be given without its name, in declaration order among positional parameters. */
  readonly positional?: boolean;
  readonly required?: boolean;
}

export interface NumberRange {
  /** Exclusive / inclusive bounds. */
  readonly gt?: number;
  readonly ge?: number;
  readonly lt?: number;
  readonly le?: number;
  /** Diagnostic to use instead of the generic MEX3011 (its template gets `{value}`). */
  readonly code?: Code;
}

/** The arguments of one call after binding: read each with the typed getters. */
export class ArgReader {
  constructor(
    private readonly bag: DiagnosticBag,
    private readonly env: Env,
    /** What the call is, for messages: "conv", "sgd", "temperature". */
    readonly what: string,
    readonly span: Span,
    private readonly bound: ReadonlyMap<string, BoundArg>,
  ) {}

  has(name: string): boolean {
    return this.bound.has(name);
  }

  value(name: string): Value | undefined {
    return this.bound.get(name)?.value;
  }

  spanOf(name: string): Span {
    return this.bound.get(name)?.value.span ?? this.span;
  }

  /** A number (integer or real) within `range`; the default when absent or invalid. */
  number(name: string, fallback: number, range: NumberRange = {}): number {
    const value = this.value(name);
    if (value === undefined) return fallback;
    if (value.kind !== "num") {
      reportNotNumber(value, value.span, this.env, this.bag);
      return fallback;
    }
    return this.inRange(name, value, range) ? value.value : fallback;
  }

  /** An integer within `range`. */
  int(name: string, fallback: number, range: NumberRange = {}): number {
    const value = this.value(name);
    if (value === undefined) return fallback;
    return readInt(value, name, range, this.env, this.bag) ?? fallback;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.value(name);
    if (value === undefined || value.kind === "bad") return fallback;
    if (value.kind === "sym" && (value.name === "true" || value.name === "false")) return value.name === "true";
    this.bag.report("MEX2023", value.span, { expected: "true or false", got: describe(value) });
    return fallback;
  }

  keyword<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.value(name);
    if (value === undefined || value.kind === "bad") return fallback;
    return readKeyword(value, `${this.what} ${name}`, allowed, this.bag) ?? fallback;
  }

  /** An integer or `[a, b]` pair of integers (kernel sizes, strides). */
  pair(name: string, fallback: number, range: NumberRange = { ge: 1 }): [number, number] {
    const value = this.value(name);
    if (value === undefined) return [fallback, fallback];
    if (value.kind === "list") {
      if (value.items.length !== 2) {
        this.bag.report("MEX2023", value.span, { expected: `an integer or a pair [h, w] for ${name}`, got: `a list of ${value.items.length}` });
        return [fallback, fallback];
      }
      const a = readInt(value.items[0]!, name, range, this.env, this.bag) ?? fallback;
      const b = readInt(value.items[1]!, name, range, this.env, this.bag) ?? fallback;
      return [a, b];
    }
    const single = readInt(value, name, range, this.env, this.bag) ?? fallback;
    return [single, single];
  }

  string(name: string): string | undefined {
    const value = this.value(name);
    if (value === undefined || value.kind === "bad") return undefined;
    if (value.kind === "str") return value.value;
    this.bag.report("MEX2023", value.span, { expected: "a string in double quotes", got: describe(value) });
    return undefined;
  }

  /** Strictly increasing? No: just a list of integers; callers check order with positions. */
  intList(name: string, range: NumberRange = {}): { values: number[]; spans: Span[] } | undefined {
    const value = this.value(name);
    if (value === undefined || value.kind === "bad") return undefined;
    const items = value.kind === "list" ? value.items : [value];
    const values: number[] = [];
    const spans: Span[] = [];
    for (const item of items) {
      const n = readInt(item, name, range, this.env, this.bag);
      if (n === undefined) return undefined;
      values.push(n);
      spans.push(item.span);
    }
    return { values, spans };
  }

  /** A constraint between parameters, reported at the first one's value. */
  reportRange(name: string, constraint: string, got: string): void {
    this.bag.report("MEX3011", this.spanOf(name), { name, constraint, value: got });
  }

  private inRange(name: string, value: Extract<Value, { kind: "num" }>, range: NumberRange): boolean {
    return checkRange(name, value, range, this.bag);
  }
}

export function checkRange(name: string, value: Extract<Value, { kind: "num" }>, range: NumberRange, bag: DiagnosticBag): boolean {
  const v = value.value;
  const failed =
    (range.gt !== undefined && !(v > range.gt)) ||
    (range.ge !== undefined && !(v >= range.ge)) ||
    (range.lt !== undefined && !(v < range.lt)) ||
    (range.le !== undefined && !(v <= range.le));
  if (!failed) return true;
  if (range.code) bag.report(range.code, value.span, { value: v, name });
  else bag.report("MEX3011", value.span, { name, constraint: describeRange(range), value: v });
  return false;
}

export function describeRange(range: NumberRange): string {
  const lower = range.gt !== undefined ? `> ${range.gt}` : range.ge !== undefined ? `>= ${range.ge}` : undefined;
  const upper = range.lt !== undefined ? `< ${range.lt}` : range.le !== undefined ? `<= ${range.le}` : undefined;
  if (lower && upper) {
    const lo = range.gt !== undefined ? `(${range.gt}` : `[${range.ge}`;
    const hi = range.lt !== undefined ? `${range.lt})` : `${range.le}]`;
    return `in ${lo}, ${hi}`;
  }
  return lower ?? upper ?? "valid";
}

export function readInt(value: Value, name: string, range: NumberRange, env: Env, bag: DiagnosticBag): number | undefined {
  if (value.kind === "bad") return undefined;
  if (value.kind !== "num") {
    reportNotNumber(value, value.span, env, bag, "an integer");
    return undefined;
  }
  if (!value.isInt) {
    bag.report("MEX3012", value.span, { name, value: value.value });
    return undefined;
  }
  return checkRange(name, value, range, bag) ? value.value : undefined;
}

export function readKeyword<T extends string>(value: Value, option: string, allowed: readonly T[], bag: DiagnosticBag): T | undefined {
  if (value.kind === "bad") return undefined;
  if (value.kind === "sym" && (allowed as readonly string[]).includes(value.name)) return value.name as T;
  if (value.kind === "sym") {
    const hint = didYouMean(value.name, allowed);
    bag.report("MEX2021", value.span, { value: value.name, option }, hint ? { hint } : {});
  } else {
    bag.report("MEX2023", value.span, { expected: `one of ${allowed.join(", ")}`, got: describe(value) });
  }
  return undefined;
}

/**
 * Binds positional and named arguments to `params`, reporting unknown names (with did-you-mean),
 * duplicates, too many positionals and missing required parameters.
 */
export function bindArgs(
  args: readonly BoundArg[] | null,
  params: readonly ParamSpec[],
  what: string,
  callSpan: Span,
  env: Env,
  bag: DiagnosticBag,
): ArgReader {
  const bound = new Map<string, BoundArg>();
  const positional = params.filter((p) => p.positional);
  let nextPositional = 0;
  for (const arg of args ?? []) {
    if (arg.name === null) {
      const param = positional[nextPositional++];
      if (!param) {
        const named = params.find((p) => !p.positional);
        const example = named?.default !== undefined && /^-?[\d.]+(e-?\d+)?$|^[a-z]+$/.test(named.default) && named.default !== "size" ? named.default : "...";
        const hint = named ? `name the extra arguments, e.g. ${named.name}=${example}` : `remove the extra arguments`;
        bag.report("MEX2017", arg.span, { op: what, max: positional.length, s: positional.length === 1 ? "" : "s" }, { hint });
        continue;
      }
      if (bound.has(param.name)) bag.report("MEX2018", arg.span, { name: param.name, op: what });
      else bound.set(param.name, arg);
      continue;
    }
    const param = params.find((p) => p.name === arg.name);
    if (!param) {
      const hint = didYouMean(arg.name, params.map((p) => p.name));
      bag.report("MEX2002", arg.nameSpan ?? arg.span, { name: arg.name, op: what }, hint ? { hint } : { hint: `${what} takes no parameters` });
      continue;
    }
    if (bound.has(param.name)) {
      bag.report("MEX2018", arg.nameSpan ?? arg.span, { name: param.name, op: what });
      continue;
    }
    bound.set(param.name, arg);
  }
  for (const param of params) {
    if (param.required && !bound.has(param.name)) {
      const example = param.positional ? `${what}(<${param.name}>)` : `${what}(${param.name}=...)`;
      bag.report("MEX2016", callSpan, { op: what, what: `${param.name} (${param.doc})` }, { hint: `write ${example}` });
    }
  }
  return new ArgReader(bag, env, what, callSpan, bound);
}
