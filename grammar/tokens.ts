/**
 * Tokens of the .mex language.
 *
 * Order of `allTokens` matters to chevrotain's lexer (first match wins, per position):
 *   1. whitespace and comments, so `//` and `/*` are never read as operators;
 *   2. the terminated forms of block comments and strings before their unterminated forms,
 *      which only match when the terminated form cannot (and are then reported as MEX1002/MEX1003);
 *   3. keywords before `Ident`; every keyword has `longer_alt: Ident` so `models`, `inputs`,
 *      `exits` stay identifiers;
 *   4. `<-` before `-`, so the teacher arrow is one token.
 */
import { createToken, Lexer, type TokenType } from "chevrotain";

export const WhiteSpace = createToken({
  name: "WhiteSpace",
  // \uFEFF: a byte-order mark that editors on Windows like to prepend.
  pattern: /[ \t\r\n\f\v\uFEFF]+/,
  group: Lexer.SKIPPED,
});

export const LineComment = createToken({ name: "LineComment", pattern: /\/\/[^\r\n]*/, group: "comments" });
export const BlockComment = createToken({ name: "BlockComment", pattern: /\/\*[\s\S]*?\*\//, group: "comments", line_breaks: true });
/** `/*` without its `*\/`: swallows the rest of the file, reported as MEX1003. */
export const UnterminatedBlockComment = createToken({
  name: "UnterminatedBlockComment",
  pattern: /\/\*[\s\S]*/,
  group: "comments",
  line_breaks: true,
});

/**
 * Keywords are reserved where they start a construct but are ordinary names elsewhere:
 * `KeyName` (a section entry key, as in `teachers: last`) accepts any name or keyword, and
 * `ValueName` (a name inside an expression, as in `dense(classes)`) accepts a name or `classes`.
 */
export const KeyName = createToken({ name: "KeyName", pattern: Lexer.NA, label: "a name" });
export const ValueName = createToken({ name: "ValueName", pattern: Lexer.NA, label: "a name" });

export const Ident = createToken({
  name: "Ident",
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
  label: "a name",
  categories: [KeyName, ValueName],
});

function keyword(word: string, ...categories: TokenType[]): TokenType {
  const name = word[0]!.toUpperCase() + word.slice(1);
  return createToken({ name, pattern: new RegExp(word), longer_alt: Ident, label: `'${word}'`, categories: [KeyName, ...categories] });
}

export const Model = keyword("model");
export const Input = keyword("input");
export const Classes = keyword("classes", ValueName);
export const Let = keyword("let");
export const Backbone = keyword("backbone");
export const Stage = keyword("stage");
export const Exit = keyword("exit");
export const After = keyword("after");
export const Teachers = keyword("teachers");
export const Repeat = keyword("repeat");
export const Residual = keyword("residual");
export const Shortcut = keyword("shortcut");
export const Concat = keyword("concat");

export const keywordTokens: readonly TokenType[] = [
  Model, Input, Classes, Let, Backbone, Stage, Exit, After, Teachers, Repeat, Residual, Shortcut, Concat,
];

/** The reserved words of the language, in declaration order. */
export const KEYWORDS: readonly string[] = [
  "model", "input", "classes", "let", "backbone", "stage", "exit", "after", "teachers", "repeat", "residual", "shortcut", "concat",
];

export const NumberLit = createToken({
  name: "NumberLit",
  pattern: /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/,
  label: "a number",
});

/** Both string forms share this category, so the parser reads an unterminated string as a string. */
export const StringTok = createToken({ name: "StringTok", pattern: Lexer.NA, label: "a string" });
export const StringLit = createToken({
  name: "StringLit",
  pattern: /"(?:[^"\\\r\n]|\\[^\r\n])*"/,
  categories: [StringTok],
  label: "a string",
});
/** A string that reaches the end of its line; reported as MEX1002. */
export const UnterminatedString = createToken({
  name: "UnterminatedString",
  pattern: /"(?:[^"\\\r\n]|\\[^\r\n])*\\?/,
  categories: [StringTok],
  label: "a string",
});

export const LBrace = createToken({ name: "LBrace", pattern: /\{/, label: "'{'" });
export const RBrace = createToken({ name: "RBrace", pattern: /\}/, label: "'}'" });
export const LParen = createToken({ name: "LParen", pattern: /\(/, label: "'('" });
export const RParen = createToken({ name: "RParen", pattern: /\)/, label: "')'" });
export const LBracket = createToken({ name: "LBracket", pattern: /\[/, label: "'['" });
export const RBracket = createToken({ name: "RBracket", pattern: /\]/, label: "']'" });
export const Comma = createToken({ name: "Comma", pattern: /,/, label: "','" });
export const Semicolon = createToken({ name: "Semicolon", pattern: /;/, label: "';'" });
export const Colon = createToken({ name: "Colon", pattern: /:/, label: "':'" });
export const Equals = createToken({ name: "Equals", pattern: /=/, label: "'='" });
export const Arrow = createToken({ name: "Arrow", pattern: /<-/, label: "'<-'" });
export const Plus = createToken({ name: "Plus", pattern: /\+/, label: "'+'" });
export const Minus = createToken({ name: "Minus", pattern: /-/, label: "'-'" });
export const Star = createToken({ name: "Star", pattern: /\*/, label: "'*'" });
export const Slash = createToken({ name: "Slash", pattern: /\//, label: "'/'" });
export const Percent = createToken({ name: "Percent", pattern: /%/, label: "'%'" });

export const allTokens: readonly TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  UnterminatedBlockComment,
  KeyName,
  ValueName,
  ...keywordTokens,
  Ident,
  NumberLit,
  StringTok,
  StringLit,
  UnterminatedString,
  LBrace, RBrace, LParen, RParen, LBracket, RBracket,
  Comma, Semicolon, Colon, Equals,
  Arrow,
  Plus, Minus, Star, Slash, Percent,
];

/** Openers and closers whose nesting the depth guard counts. */
export const OPENERS: ReadonlySet<TokenType> = new Set([LBrace, LParen, LBracket]);
export const CLOSERS: ReadonlySet<TokenType> = new Set([RBrace, RParen, RBracket]);

/** Built once: chevrotain validates and optimizes the token set at construction. */
export const mexLexer = new Lexer([...allTokens], {
  positionTracking: "onlyOffset",
  ensureOptimizations: true,
});
