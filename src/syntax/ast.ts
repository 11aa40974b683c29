/**
 * The syntax tree of a .mex file: what the parser (grammar/) produces and the checker (src/check/)
 * consumes. Every node carries its source span. Nodes recovered from syntax errors may have
 * `ErrorExpr` values or missing names (`null`); the checker never runs on a file with syntax errors,
 * but editor tooling (formatter, LSP) may walk partial trees.
 */
import type { Span } from "../ir/model.js";

export interface Ident {
  readonly name: string;
  readonly span: Span;
}

export type BinaryOp = "+" | "-" | "*" | "/" | "%";

export type Expr =
  | { readonly kind: "number"; readonly value: number; readonly raw: string; readonly span: Span }
  | { readonly kind: "string"; readonly value: string; readonly span: Span }
  | { readonly kind: "ident"; readonly name: string; readonly span: Span }
  /** `adaptive(start=1)`, `sgd(lr=0.1)`, `fashion_mnist(per_class=150)`, `crop(pad=2)`. */
  | { readonly kind: "call"; readonly callee: Ident; readonly args: readonly Arg[]; readonly span: Span }
  | { readonly kind: "list"; readonly items: readonly Expr[]; readonly span: Span }
  | { readonly kind: "binary"; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr; readonly span: Span }
  | { readonly kind: "unary"; readonly op: "-"; readonly operand: Expr; readonly span: Span }
  /** `{ e1 <- [e2, e3], e2 <- e3 }` (explicit teacher sets). */
  | { readonly kind: "map"; readonly entries: readonly MapEntry[]; readonly span: Span }
  /** Placeholder where the parser recovered from an error. */
  | { readonly kind: "error"; readonly span: Span };

/** A call argument: positional (`name` null) or named (`kernel=3`). */
export interface Arg {
  readonly name: Ident | null;
  readonly value: Expr;
  readonly span: Span;
}

export interface MapEntry {
  readonly key: Ident;
  readonly value: Expr;
  readonly span: Span;
}

export type LayerItem =
  /** `relu`, `conv(32, kernel=3)`; `args` is null when written without parentheses. */
  | { readonly kind: "layer"; readonly name: Ident; readonly args: readonly Arg[] | null; readonly span: Span }
  | { readonly kind: "repeat"; readonly count: Expr; readonly body: readonly LayerItem[]; readonly span: Span }
  /** `residual { body } shortcut { ... }`; `shortcut` null when not written. */
  | {
      readonly kind: "residual";
      readonly body: readonly LayerItem[];
      readonly shortcut: readonly LayerItem[] | null;
      readonly span: Span;
    }
  | { readonly kind: "concat"; readonly body: readonly LayerItem[]; readonly span: Span };

export interface LetDecl {
  readonly kind: "let";
  readonly name: Ident;
  readonly value: Expr;
  readonly span: Span;
}

export interface StageDecl {
  readonly kind: "stage";
  readonly name: Ident;
  readonly body: readonly LayerItem[];
  readonly span: Span;
}

/** `key: value` inside a section. */
export interface Entry {
  readonly key: Ident;
  readonly value: Expr;
  readonly span: Span;
}

export type ModelItem =
  | LetDecl
  | { readonly kind: "input"; readonly value: Expr; readonly span: Span }
  | { readonly kind: "classes"; readonly value: Expr; readonly span: Span }
  | { readonly kind: "backbone"; readonly items: readonly (StageDecl | LetDecl)[]; readonly span: Span }
  | {
      readonly kind: "exit";
      readonly name: Ident;
      readonly after: Ident;
      /** Optional `teachers [e2, e3]` clause between `after STAGE` and the head. */
      readonly teachers: Expr | null;
      readonly head: readonly LayerItem[];
      readonly span: Span;
    }
  /** `distill { ... }`, `train { ... }` or an unknown section name (reported by the checker). */
  | { readonly kind: "section"; readonly name: Ident; readonly entries: readonly Entry[]; readonly span: Span };

export interface ModelDecl {
  readonly kind: "model";
  readonly name: Ident;
  readonly items: readonly ModelItem[];
  readonly span: Span;
}

/** One comment, kept for the formatter and the LSP. */
export interface Comment {
  readonly text: string;
  readonly span: Span;
  readonly block: boolean;
}

export interface SpecFile {
  readonly models: readonly ModelDecl[];
  readonly comments: readonly Comment[];
  readonly span: Span;
}
