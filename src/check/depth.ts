/**
 * The expression-depth guard (MEX1014). The parser builds `1 + 1 + ... + 1` as a left-deep tree
 * without recursion, so a 200,000-term sum parses fine; but the checker evaluates expressions
 * recursively, one stack frame or two per operator. Rejecting trees deeper than MAX_EXPRESSION_DEPTH
 * operators before checking keeps any input from exhausting the stack.
 */
import type { Span } from "../ir/model.js";
import type { ModelDecl } from "../syntax/ast.js";
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";

/** Operators (`+ - * / %`, unary `-`) on one path of an expression tree; far beyond any real spec. */
export const MAX_EXPRESSION_DEPTH = 1000;

/**
 * Walks the model with an explicit stack (the tree may be 200,000 levels deep) counting operator nodes
 * on each path, parentheses, lists and calls included. Reports MEX1014 at the outermost operator of the
 * first expression over the limit and returns true; false when every expression is within it.
 */
export function exceedsExpressionDepth(model: ModelDecl, bag: DiagnosticBag): boolean {
  const stack: { node: unknown; depth: number; outermost: Span | null }[] = [{ node: model, depth: 0, outermost: null }];
  while (stack.length > 0) {
    const { node, depth, outermost } = stack.pop()!;
    const kind = (node as { kind?: unknown }).kind;
    const isOperator = kind === "binary" || kind === "unary";
    const level = isOperator ? depth + 1 : depth;
    const top = outermost ?? (isOperator ? (node as { span: Span }).span : null);
    if (level > MAX_EXPRESSION_DEPTH) {
      bag.report("MEX1014", top!, { limit: MAX_EXPRESSION_DEPTH }, { hint: `this expression chains more than ${MAX_EXPRESSION_DEPTH} operators; split it into 'let' constants` });
      return true;
    }
    for (const [key, child] of Object.entries(node as object)) {
      if (key !== "span" && child !== null && typeof child === "object") stack.push({ node: child, depth: level, outermost: top });
    }
  }
  return false;
}
