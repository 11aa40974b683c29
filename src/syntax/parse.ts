/**
 * Text -> syntax tree + diagnostics (MEX1xxx). Never throws: lexing, the depth guard, parsing and the
 * one-model rule all report into one DiagnosticBag, and an unexpected exception becomes a diagnostic.
 */
import { EOF, type ILexingError, type IToken } from "chevrotain";
import type { Span } from "../ir/model.js";
import type { Comment, ModelDecl, SpecFile } from "./ast.js";
import { DiagnosticBag, type Diagnostic } from "../diagnostics/diagnostic.js";
import * as T from "../../grammar/tokens.js";
import { getParser, MAX_SYNTAX_ERRORS, TooManyErrors, describeToken, tokenSpan } from "../../grammar/parser.js";
import { tokenCategory, type TokenCategory } from "./tokens-info.js";

export { KEYWORDS } from "../../grammar/tokens.js";
export type { TokenCategory } from "./tokens-info.js";

/** Brackets (`(`, `[`, `{`) nest at most this deep; see MEX1014. */
export const MAX_NESTING = 200;

export interface ParseResult {
  readonly ast: SpecFile;
  readonly diagnostics: Diagnostic[];
}

/** Parse one spec. `file` is only used to label diagnostics. */
export function parse(text: string, file: string): ParseResult {
  const bag = new DiagnosticBag(file);
  const comments: Comment[] = [];
  let models: ModelDecl[] = [];
  let lastToken: IToken | undefined;
  try {
    const tokens = lex(text, bag, comments);
    lastToken = tokens[tokens.length - 1];
    if (!exceedsNesting(tokens, bag)) {
      models = parseModels(tokens, text.length, bag);
      checkModelCount(models, bag);
    }
  } catch (err) {
    reportInternal(bag, err, text.length, lastToken);
  }
  return {
    ast: { models, comments, span: { start: 0, end: text.length } },
    diagnostics: dedupeByStart(bag.sorted()),
  };
}

// -------------------------------------------------------------------------------------------------
// Lexing

/** Tokenize; report MEX1001-1003 into `bag`, collect comments; returns the tokens the parser reads. */
function lex(text: string, bag: DiagnosticBag, comments: Comment[]): IToken[] {
  const result = T.mexLexer.tokenize(text);
  for (const run of mergeRuns(result.errors)) {
    const bad = text.slice(run.start, run.end);
    bag.report("MEX1001", run, { char: printable(bad) });
  }
  for (const tok of result.groups["comments"] ?? []) {
    const unterminated = tok.tokenType === T.UnterminatedBlockComment;
    // The opening `/*` is what the user must fix; the token itself runs to the end of the file.
    if (unterminated) bag.report("MEX1003", { start: tok.startOffset, end: tok.startOffset + 2 });
    comments.push({ text: tok.image, span: tokenSpan(tok), block: tok.tokenType !== T.LineComment });
  }
  for (const tok of result.tokens) {
    if (tok.tokenType === T.UnterminatedString) bag.report("MEX1002", tokenSpan(tok));
  }
  return result.tokens;
}

/** One span per run of adjacent bad characters (the lexer may report a run in pieces). */
function mergeRuns(errors: readonly ILexingError[]): Span[] {
  const runs: Span[] = [];
  for (const e of errors) {
    const last = runs[runs.length - 1];
    if (last && last.end === e.offset) runs[runs.length - 1] = { start: last.start, end: e.offset + e.length };
    else runs.push({ start: e.offset, end: e.offset + e.length });
  }
  return runs;
}

/** Bad characters as they can be shown in a one-line message. */
function printable(bad: string): string {
  const shown = [...bad].slice(0, 16).map((ch) => {
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0) || code === 0xfffd) return `\\u{${code.toString(16)}}`;
    return ch;
  });
  return shown.join("") + ([...bad].length > 16 ? "..." : "");
}

// -------------------------------------------------------------------------------------------------
// Depth guard

/**
 * The parser recurses once per bracket level. Reject nesting beyond MAX_NESTING before parsing, so
 * no input can exhaust the stack. Returns true when the limit was exceeded (and reported).
 */
function exceedsNesting(tokens: readonly IToken[], bag: DiagnosticBag): boolean {
  let depth = 0;
  for (const tok of tokens) {
    if (T.OPENERS.has(tok.tokenType)) {
      depth++;
      if (depth > MAX_NESTING) {
        bag.report("MEX1014", tokenSpan(tok), { limit: MAX_NESTING });
        return true;
      }
    } else if (T.CLOSERS.has(tok.tokenType) && depth > 0) depth--;
  }
  return false;
}

// -------------------------------------------------------------------------------------------------
// Parsing

/**
 * Run the grammar's `file` rule. When it stops at input outside any model (reported as MEX1011),
 * skip to the next `model` keyword and run again, so a stray token does not hide the rest of the file.
 */
function parseModels(tokens: IToken[], textLength: number, bag: DiagnosticBag): ModelDecl[] {
  const parser = getParser();
  const models: ModelDecl[] = [];
  const endOfInput = endOfInputSpan(tokens, textLength);
  let from = 0;
  let errors = 0;
  for (;;) {
    const slice = from === 0 ? tokens : tokens.slice(from);
    parser.start(slice, textLength);
    let stoppedAt: IToken | null = null;
    try {
      models.push(...parser.file());
    } catch (err) {
      if (!(err instanceof TooManyErrors)) throw err;
      stoppedAt = err.token;
    }
    for (const e of parser.errors) {
      const info = parser.errorInfo.get(e.message);
      const span = e.token.tokenType === EOF || Number.isNaN(e.token.startOffset) ? endOfInput : tokenSpan(e.token);
      if (info) bag.report(info.code, span, info.args);
      else bag.report("MEX1011", span, { found: describeToken(e.token), context: ` (${e.message})` });
      errors++;
    }
    if (stoppedAt) {
      const span = stoppedAt.tokenType === EOF || Number.isNaN(stoppedAt.startOffset) ? endOfInput : tokenSpan(stoppedAt);
      bag.report("MEX1011", span, { found: describeToken(stoppedAt), context: `: more than ${MAX_SYNTAX_ERRORS} syntax errors, stopped here` });
      break;
    }
    if (errors > MAX_SYNTAX_ERRORS) break;
    const strayAt = strayIndex(parser.errors, slice);
    if (strayAt === null) break;
    const next = nextModelKeyword(slice, strayAt + 1);
    if (next === null) break;
    from += next;
  }
  return models;
}

/** Index in `tokens` of the input left over after the `file` rule stopped, if it did stop early. */
function strayIndex(errors: ReturnType<typeof getParser>["errors"], tokens: readonly IToken[]): number | null {
  const stray = errors.find((e) => e.name === "NotAllInputParsedException");
  if (!stray) return null;
  const index = tokens.indexOf(stray.token);
  return index < 0 ? null : index;
}

function nextModelKeyword(tokens: readonly IToken[], from: number): number | null {
  for (let i = from; i < tokens.length; i++) if (tokens[i]!.tokenType === T.Model) return i;
  return null;
}

/** "expected X at end of input" points at the last character of the last token. */
function endOfInputSpan(tokens: readonly IToken[], textLength: number): Span {
  const last = tokens[tokens.length - 1];
  if (last) {
    const end = tokenSpan(last).end;
    return { start: end - 1, end };
  }
  return { start: Math.max(0, textLength - 1), end: textLength };
}

/** MEX1012 (no model) and MEX1013 (a second model); MEX1012 only when nothing else is wrong. */
function checkModelCount(models: readonly ModelDecl[], bag: DiagnosticBag): void {
  if (models.length === 0 && !bag.hasErrors) bag.report("MEX1012", { start: 0, end: 0 });
  for (const extra of models.slice(1)) {
    const span = extra.name.name === "" ? { start: extra.span.start, end: extra.span.start + "model".length } : extra.name.span;
    bag.report("MEX1013", span, { name: extra.name.name });
  }
}

function reportInternal(bag: DiagnosticBag, err: unknown, textLength: number, lastToken: IToken | undefined): void {
  const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const at = lastToken ? lastToken.startOffset : 0;
  bag.report(
    "MEX1011",
    { start: Math.min(at, textLength), end: Math.min(at, textLength) },
    { found: "input", context: ` (internal parser error: ${why})` },
    { hint: "this is a bug in mex; please report it with the spec that triggers it" },
  );
}

/** Recovery can report one position twice (e.g. a mismatch, then a re-sync); keep the first syntax error there. */
function dedupeByStart(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<number>();
  return diagnostics.filter((d) => {
    if (d.code !== "MEX1010" && d.code !== "MEX1011") return true;
    if (seen.has(d.span.start)) return false;
    seen.add(d.span.start);
    return true;
  });
}

// -------------------------------------------------------------------------------------------------
// Tokens for tooling

export interface MexToken {
  /** chevrotain token name, e.g. "LBrace", "Stage", "Ident", "LineComment"; "Invalid" for bad characters. */
  readonly type: string;
  readonly category: TokenCategory;
  readonly text: string;
  readonly span: Span;
}

/**
 * Every token of `text` in source order, comments and runs of invalid characters included (whitespace
 * excluded), for the formatter, syntax highlighting and the LSP. Never throws.
 */
export function tokenize(text: string): MexToken[] {
  try {
    const result = T.mexLexer.tokenize(text);
    const out: MexToken[] = [];
    const push = (tok: IToken): void => {
      out.push({ type: tok.tokenType.name, category: tokenCategory(tok.tokenType), text: tok.image, span: tokenSpan(tok) });
    };
    result.tokens.forEach(push);
    (result.groups["comments"] ?? []).forEach(push);
    for (const run of mergeRuns(result.errors)) {
      out.push({ type: "Invalid", category: "invalid", text: text.slice(run.start, run.end), span: run });
    }
    return out.sort((a, b) => a.span.start - b.span.start);
  } catch {
    return [{ type: "Invalid", category: "invalid", text, span: { start: 0, end: text.length } }];
  }
}
