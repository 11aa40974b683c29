/**
 * Evaluation of expressions to values, and typed readers that turn values into the numbers,
 * flags and keywords the IR needs, reporting every mismatch with a position.
 */
import type { Span } from "../ir/model.js";
import type { Arg, Expr } from "../syntax/ast.js";
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import { didYouMean } from "./suggest.js";

export type Value =
  | { readonly kind: "num"; readonly value: number; readonly isInt: boolean; readonly span: Span }
  | { readonly kind: "str"; readonly value: string; readonly span: Span }
  /** A bare identifier that is not a constant: a keyword value such as `same`, `true`, `last`, `flip`. */
  | { readonly kind: "sym"; readonly name: string; readonly span: Span }
  | { readonly kind: "list"; readonly items: readonly Value[]; readonly span: Span }
  | { readonly kind: "call"; readonly name: string; readonly nameSpan: Span; readonly args: readonly BoundArg[]; readonly span: Span }
  | { readonly kind: "map"; readonly entries: readonly { key: string; keySpan: Span; value: Value; span: Span }[]; readonly span: Span }
  /** Evaluation failed and was already reported: readers stay silent and use the default. */
  | { readonly kind: "bad"; readonly span: Span };

export interface BoundArg {
  readonly name: string | null;
  readonly nameSpan: Span | null;
  readonly value: Value;
  readonly span: Span;
}

/** Constants visible to expressions (`let` names, and `classes`). */
export interface Env {
  /** The constant's value; may report (e.g. use before definition) and return a `bad` value. */
  lookup(name: string, span: Span): Value | undefined;
  /** Names for did-you-mean. */
  names(): string[];
  /** Marks a constant as used (for the unused-constant warning). */
  use?(name: string): void;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export function describe(value: Value): string {
  switch (value.kind) {
    case "num":
      return String(value.value);
    case "str":
      return JSON.stringify(value.value);
    case "sym":
      return `'${value.name}'`;
    case "list":
      return value.items.length <= 8 ? `[${value.items.map(describe).join(", ")}]` : `a list of ${value.items.length}`;
    case "call":
      return `${value.name}(...)`;
    case "map":
      return "a map";
    case "bad":
      return "an invalid value";
  }
}

export function evaluate(expr: Expr, env: Env, bag: DiagnosticBag): Value {
  switch (expr.kind) {
    case "number": {
      if (!Number.isFinite(expr.value)) {
        bag.report("MEX3014", expr.span, { value: expr.raw });
        return { kind: "bad", span: expr.span };
      }
      return { kind: "num", value: expr.value, isInt: isIntegerLiteral(expr.raw, expr.value), span: expr.span };
    }
    case "string":
      return { kind: "str", value: expr.value, span: expr.span };
    case "ident": {
      const found = env.lookup(expr.name, expr.span);
      if (found) {
        env.use?.(expr.name);
        return { ...found, span: expr.span } as Value;
      }
      return { kind: "sym", name: expr.name, span: expr.span };
    }
    case "call":
      return {
        kind: "call",
        name: expr.callee.name,
        nameSpan: expr.callee.span,
        args: evaluateArgs(expr.args, env, bag),
        span: expr.span,
      };
    case "list":
      return { kind: "list", items: expr.items.map((item) => evaluate(item, env, bag)), span: expr.span };
    case "map":
      return {
        kind: "map",
        entries: expr.entries.map((entry) => ({
          key: entry.key.name,
          keySpan: entry.key.span,
          value: evaluate(entry.value, env, bag),
          span: entry.span,
        })),
        span: expr.span,
      };
    case "unary": {
      const operand = evaluate(expr.operand, env, bag);
      if (operand.kind === "bad") return operand;
      if (operand.kind !== "num") return notNumber(operand, expr.span, env, bag);
      return { kind: "num", value: -operand.value, isInt: operand.isInt, span: expr.span };
    }
    case "binary":
      return evaluateBinary(expr, env, bag);
    case "error":
      return { kind: "bad", span: expr.span };
  }
}

/** `3` and `1e3` are integers; `3.0` is written as a real number and stays one. */
function isIntegerLiteral(raw: string, value: number): boolean {
  return !raw.includes(".") && Number.isInteger(value) && Math.abs(value) <= MAX_SAFE;
}

export function evaluateArgs(args: readonly Arg[], env: Env, bag: DiagnosticBag): BoundArg[] {
  return args.map((arg) => ({
    name: arg.name ? arg.name.name : null,
    nameSpan: arg.name ? arg.name.span : null,
    value: evaluate(arg.value, env, bag),
    span: arg.span,
  }));
}

function evaluateBinary(expr: Extract<Expr, { kind: "binary" }>, env: Env, bag: DiagnosticBag): Value {
  const left = evaluate(expr.left, env, bag);
  const right = evaluate(expr.right, env, bag);
  if (left.kind === "bad" || right.kind === "bad") return { kind: "bad", span: expr.span };
  if (left.kind !== "num") return notNumber(left, left.span, env, bag);
  if (right.kind !== "num") return notNumber(right, right.span, env, bag);
  const bothInt = left.isInt && right.isInt;
  let result: number;
  switch (expr.op) {
    case "+":
      result = left.value + right.value;
      break;
    case "-":
      result = left.value - right.value;
      break;
    case "*":
      result = left.value * right.value;
      break;
    case "/":
    case "%":
      if (right.value === 0) {
        bag.report("MEX3013", expr.right.span);
        return { kind: "bad", span: expr.span };
      }
      result = expr.op === "/" ? left.value / right.value : left.value % right.value;
      if (bothInt && expr.op === "/" && !Number.isInteger(result)) {
        bag.report("MEX3016", expr.span, { op: "/", left: left.value, right: right.value }, { hint: `${left.value} / ${right.value} = ${result}; use a divisible value` });
        return { kind: "bad", span: expr.span };
      }
      break;
  }
  if (!Number.isFinite(result) || (bothInt && Math.abs(result) > MAX_SAFE)) {
    bag.report("MEX3014", expr.span, { value: String(result) });
    return { kind: "bad", span: expr.span };
  }
  return { kind: "num", value: result, isInt: bothInt, span: expr.span };
}

function notNumber(value: Value, span: Span, env: Env, bag: DiagnosticBag): Value {
  reportNotNumber(value, span, env, bag);
  return { kind: "bad", span };
}

/** A keyword where a number belongs is most often a misspelt constant: say which. */
export function reportNotNumber(value: Value, span: Span, env: Env, bag: DiagnosticBag, expected = "a number"): void {
  if (value.kind === "bad") return;
  if (value.kind === "sym") {
    const hint = didYouMean(value.name, env.names(), false);
    bag.report("MEX2019", span, { name: value.name }, hint ? { hint } : {});
    return;
  }
  bag.report("MEX2023", span, { expected, got: describe(value) });
}
