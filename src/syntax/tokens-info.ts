/**
 * Token categories for tooling (syntax highlighting, the formatter, the LSP's semantic tokens),
 * derived from the grammar's token table so the two cannot drift apart.
 */
import type { TokenType } from "chevrotain";
import * as T from "../../grammar/tokens.js";

export type TokenCategory = "keyword" | "identifier" | "number" | "string" | "operator" | "punctuation" | "comment" | "invalid";

const OPERATORS: ReadonlySet<TokenType> = new Set([T.Plus, T.Minus, T.Star, T.Slash, T.Percent, T.Arrow, T.Equals]);
const COMMENTS: ReadonlySet<TokenType> = new Set([T.LineComment, T.BlockComment, T.UnterminatedBlockComment]);
const KEYWORD_TYPES: ReadonlySet<TokenType> = new Set(T.keywordTokens);

export function tokenCategory(type: TokenType): TokenCategory {
  if (KEYWORD_TYPES.has(type)) return "keyword";
  if (type === T.Ident) return "identifier";
  if (type === T.NumberLit) return "number";
  if (type === T.StringLit || type === T.UnterminatedString) return "string";
  if (COMMENTS.has(type)) return "comment";
  if (OPERATORS.has(type)) return "operator";
  return "punctuation";
}

/** Operator and punctuation spellings, e.g. for a TextMate grammar. */
export const OPERATOR_TEXTS: readonly string[] = ["+", "-", "*", "/", "%", "<-", "="];
export const PUNCTUATION_TEXTS: readonly string[] = ["{", "}", "(", ")", "[", "]", ",", ";", ":"];
