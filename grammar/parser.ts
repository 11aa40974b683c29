/**
 * The .mex parser: an EmbeddedActionsParser that builds the syntax tree (src/syntax/ast.ts) directly,
 * with chevrotain's error recovery on.
 *
 * Why embedded actions rather than CST + visitor: spans come straight from tokens (one allocation per
 * node instead of two), and recovered nodes are built from what was parsed so far (see `Frame`),
 * so a syntax error in one stage does not erase the rest of the model.
 *
 * Spans: a node starts at the first token it consumed (`LA(1)` on entry) and ends after the last real
 * token consumed (`LA(0)` on exit). Tokens inserted by recovery have NaN offsets and are never used
 * for positions.
 */
import { EmbeddedActionsParser, EOF, type IParserErrorMessageProvider, type IRecognitionException, type IToken, type TokenType } from "chevrotain";
import type { Arg, BinaryOp, Expr, Ident, LayerItem, LetDecl, MapEntry, ModelDecl, ModelItem, StageDecl, Entry } from "../src/syntax/ast.js";
import type { Span } from "../src/ir/model.js";
import { fillTemplate } from "../src/diagnostics/diagnostic.js";
import { CODES } from "../src/diagnostics/codes.js";
import * as T from "./tokens.js";

/** Structured arguments of one syntax error, for `DiagnosticBag.report`. */
export interface SyntaxErrorInfo {
  readonly code: "MEX1010" | "MEX1011";
  readonly args: Record<string, string>;
}

/** After this many syntax errors the parser stops: hostile input must not cost unbounded time or stack. */
export const MAX_SYNTAX_ERRORS = 100;

/** Thrown (not a recognition exception, so chevrotain does not catch it) to abort after too many errors. */
export class TooManyErrors extends Error {
  constructor(readonly token: IToken) {
    super("too many syntax errors");
  }
}

/**
 * One open construct. `what` names it in messages ("stage 's1'"); `closer` is the token that ends it;
 * `partial` builds the node from what was parsed so far, used when chevrotain re-syncs past this rule.
 * When an error unwinds a child construct without recovering it, the child is kept in `pendingChild`
 * and `adopt` takes its partial node, so recovery at an outer level still keeps the inner work.
 */
interface Frame {
  kind: FrameKind;
  what: string;
  closer: TokenType | null;
  /** `error` is where parsing failed: recovered nodes put their error expressions there. */
  partial: (error: Span) => unknown;
  adopt?: (kind: FrameKind, node: unknown) => void;
  pendingChild?: Frame | null;
}

type FrameKind =
  | "file" | "model" | "backbone" | "stage" | "exit" | "section" | "body" | "args" | "group" | "list" | "map"
  | "let" | "input" | "classes" | "entry" | "arg" | "mapEntry";

/** A frame's node so far, including its unwound child's partial node. */
function buildPartial(frame: Frame, error: Span): unknown {
  const child = frame.pendingChild;
  frame.pendingChild = null;
  if (child && frame.adopt) {
    const node = buildPartial(child, error);
    if (node !== null && node !== undefined) frame.adopt(child.kind, node);
  }
  return frame.partial(error);
}

const NO_PARTIAL = (): null => null;
/** Constructs that name the place of an error ("unexpected '*' in section 'train'"). */
const CONTEXT_KINDS: ReadonlySet<FrameKind> = new Set(["model", "backbone", "stage", "exit", "section"]);
const MODEL_ITEM_KINDS: ReadonlySet<FrameKind> = new Set(["let", "input", "classes", "backbone", "exit", "section"]);

export class MexParser extends EmbeddedActionsParser {
  /** Length of the text being parsed: the position of "end of input". */
  textLength = 0;
  /** Open constructs, innermost last. */
  private frames: Frame[] = [];
  /** The frame most recently closed, possibly by an exception; read by recovery value functions. */
  private lastClosed: Frame | null = null;
  /** Message -> structured arguments (identical messages have identical arguments). */
  readonly errorInfo = new Map<string, SyntaxErrorInfo>();
  private errorCount = 0;

  constructor() {
    // The message provider reads the open frames, so it reaches the parser through a late-bound box.
    const box: { parser: MexParser | null } = { parser: null };
    super([...T.allTokens], {
      recoveryEnabled: true,
      maxLookahead: 3,
      errorMessageProvider: lateBoundMessages(() => box.parser!.messages),
    });
    box.parser = this;
    this.performSelfAnalysis();
  }

  /** Prepare for a new run over `tokens` of a text of `textLength` characters. */
  start(tokens: IToken[], textLength: number): void {
    this.textLength = textLength;
    this.frames = [];
    this.lastClosed = null;
    this.errorInfo.clear();
    this.errorCount = 0;
    this.input = tokens;
  }

  // ---------------------------------------------------------------------------------------------
  // Rules

  file = this.RULE(
    "file",
    (): ModelDecl[] => {
      const models: ModelDecl[] = [];
      const adopt = (kind: FrameKind, node: unknown): void => {
        if (kind === "model") models.push(node as ModelDecl);
      };
      return this.framed({ kind: "file", what: "the file", closer: null, partial: () => models, adopt }, () => {
        this.MANY(() => {
          const m = this.SUBRULE(this.model);
          this.ACTION(() => m && models.push(m));
        });
        return models;
      });
    },
    { recoveryValueFunc: () => this.recovered<ModelDecl[]>() ?? [] },
  );

  model = this.RULE(
    "model",
    (): ModelDecl | null => {
      const start = this.startHere();
      const items: ModelItem[] = [];
      let name = this.placeholderIdent(start);
      const build = (): ModelDecl => ({ kind: "model", name, items, span: this.spanFrom(start) });
      const adopt = (kind: FrameKind, node: unknown): void => {
        if (MODEL_ITEM_KINDS.has(kind)) items.push(node as ModelItem);
      };
      return this.framed({ kind: "model", what: "the model", closer: T.RBrace, partial: build, adopt }, (frame) => {
        this.CONSUME(T.Model);
        name = this.ident();
        this.ACTION(() => (frame.what = `model '${name.name}'`));
        this.CONSUME(T.LBrace);
        this.MANY(() => {
          const item = this.SUBRULE(this.modelItem);
          this.ACTION(() => item && items.push(item));
        });
        this.CONSUME(T.RBrace);
        return this.ACTION(build);
      });
    },
    { recoveryValueFunc: () => this.recovered() },
  );

  private modelItem = this.RULE(
    "modelItem",
    (): ModelItem | null =>
      this.OR([
        { ALT: () => this.SUBRULE(this.letDecl) },
        { ALT: () => this.SUBRULE(this.inputDecl) },
        { ALT: () => this.SUBRULE(this.classesDecl) },
        { ALT: () => this.SUBRULE(this.backbone) },
        { ALT: () => this.SUBRULE(this.exitDecl) },
        { ALT: () => this.SUBRULE(this.section) },
      ]),
    { recoveryValueFunc: () => null },
  );

  private letDecl = this.RULE(
    "letDecl",
    (): LetDecl | null => {
      const start = this.startHere();
      let name = this.placeholderIdent(start);
      let value: Expr | null = null;
      const build = (error?: Span): LetDecl => ({ kind: "let", name, value: value ?? errorAt(error!), span: this.spanFrom(start) });
      return this.framed({ kind: "let", what: "a constant", closer: null, partial: build }, () => {
        this.CONSUME(T.Let);
        name = this.ident();
        this.CONSUME(T.Equals);
        value = this.SUBRULE(this.expr);
        return this.ACTION(() => build());
      });
    },
    { recoveryValueFunc: (e) => this.recovered<LetDecl>(e) },
  );

  private inputDecl = this.RULE(
    "inputDecl",
    (): ModelItem | null => {
      const start = this.startHere();
      let value: Expr | null = null;
      const build = (error?: Span): ModelItem => ({ kind: "input", value: value ?? errorAt(error!), span: this.spanFrom(start) });
      return this.framed({ kind: "input", what: "'input'", closer: null, partial: build }, () => {
        this.CONSUME(T.Input);
        value = this.SUBRULE(this.expr);
        return this.ACTION(() => build());
      });
    },
    { recoveryValueFunc: (e) => this.recovered<ModelItem>(e) },
  );

  private classesDecl = this.RULE(
    "classesDecl",
    (): ModelItem | null => {
      const start = this.startHere();
      let value: Expr | null = null;
      const build = (error?: Span): ModelItem => ({ kind: "classes", value: value ?? errorAt(error!), span: this.spanFrom(start) });
      return this.framed({ kind: "classes", what: "'classes'", closer: null, partial: build }, () => {
        this.CONSUME(T.Classes);
        value = this.SUBRULE(this.expr);
        return this.ACTION(() => build());
      });
    },
    { recoveryValueFunc: (e) => this.recovered<ModelItem>(e) },
  );

  private backbone = this.RULE(
    "backbone",
    (): ModelItem | null => {
      const start = this.startHere();
      const items: (StageDecl | LetDecl)[] = [];
      const build = (): ModelItem => ({ kind: "backbone", items, span: this.spanFrom(start) });
      const adopt = (kind: FrameKind, node: unknown): void => {
        if (kind === "stage" || kind === "let") items.push(node as StageDecl | LetDecl);
      };
      return this.framed({ kind: "backbone", what: "the backbone", closer: T.RBrace, partial: build, adopt }, () => {
        this.CONSUME(T.Backbone);
        this.CONSUME(T.LBrace);
        this.MANY(() => {
          const item = this.OR([{ ALT: () => this.SUBRULE(this.stage) }, { ALT: () => this.SUBRULE(this.letDecl) }]);
          this.ACTION(() => item && items.push(item));
        });
        this.CONSUME(T.RBrace);
        return this.ACTION(build);
      });
    },
    { recoveryValueFunc: () => this.recovered() },
  );

  private stage = this.RULE(
    "stage",
    (): StageDecl | null => {
      const start = this.startHere();
      let name = this.placeholderIdent(start);
      let body: LayerItem[] = [];
      const build = (): StageDecl => ({ kind: "stage", name, body, span: this.spanFrom(start) });
      const adopt = (kind: FrameKind, node: unknown): void => {
        if (kind === "body") body = node as LayerItem[];
      };
      return this.framed({ kind: "stage", what: "a stage", closer: null, partial: build, adopt }, (frame) => {
        this.CONSUME(T.Stage);
        name = this.ident();
        this.ACTION(() => (frame.what = `stage '${name.name}'`));
        body = this.SUBRULE(this.layerBody, { ARGS: [frame.what] });
        return this.ACTION(build);
      });
    },
    { recoveryValueFunc: () => this.recovered() },
  );

  private exitDecl = this.RULE(
    "exitDecl",
    (): ModelItem | null => {
      const start = this.startHere();
      let name = this.placeholderIdent(start);
      let after = this.placeholderIdent(start);
      let teachers: Expr | null = null;
      let head: LayerItem[] = [];
      const build = (): ModelItem => ({ kind: "exit", name, after, teachers, head, span: this.spanFrom(start) });
      const adopt = (kind: FrameKind, node: unknown): void => {
        if (kind === "body") head = node as LayerItem[];
      };
      return this.framed({ kind: "exit", what: "an exit", closer: null, partial: build, adopt }, (frame) => {
        this.CONSUME(T.Exit);
        name = this.ident();
        this.ACTION(() => (frame.what = `exit '${name.name}'`));
        this.CONSUME(T.After);
        after = this.ident(2);
        this.OPTION(() => {
          this.CONSUME(T.Teachers);
          teachers = this.SUBRULE(this.expr);
        });
        head = this.SUBRULE(this.layerBody, { ARGS: [this.ACTION(() => `the head of exit '${name.name}'`)] });
        return this.ACTION(build);
      });
    },
    { recoveryValueFunc: () => this.recovered() },
  );

  private section = this.RULE(
    "section",
    (): ModelItem | null => {
      const start = this.startHere();
      let name = this.placeholderIdent(start);
      const entries: Entry[] = [];
      const build = (): ModelItem => ({ kind: "section", name, entries, span: this.spanFrom(start) });
      const adopt = (kind: FrameKind, node: unknown): void => {
        if (kind === "entry") entries.push(node as Entry);
      };
      return this.framed({ kind: "section", what: "a section", closer: T.RBrace, partial: build, adopt }, (frame) => {
        name = this.ident();
        this.ACTION(() => (frame.what = `section '${name.name}'`));
        this.CONSUME(T.LBrace);
        this.MANY(() => {
          const entry = this.SUBRULE(this.entry);
          this.ACTION(() => entry && entries.push(entry));
        });
        this.CONSUME(T.RBrace);
        return this.ACTION(build);
      });
    },
    { recoveryValueFunc: () => this.recovered() },
  );

  private entry = this.RULE(
    "entry",
    (): Entry | null => {
      const start = this.startHere();
      let key = this.placeholderIdent(start);
      let value: Expr | null = null;
      const build = (error?: Span): Entry => ({ key, value: value ?? errorAt(error!), span: this.spanFrom(start) });
      return this.framed({ kind: "entry", what: "an entry", closer: null, partial: build }, () => {
        key = this.ident(1, T.KeyName);
        this.CONSUME(T.Colon);
        value = this.SUBRULE(this.expr);
        // The span covers `key: value` only; a trailing separator belongs to no node.
        const entry = this.ACTION(() => build());
        this.OPTION(() => this.OR([{ ALT: () => this.CONSUME(T.Comma) }, { ALT: () => this.CONSUME(T.Semicolon) }]));
        return entry;
      });
    },
    { recoveryValueFunc: (e) => this.recovered<Entry>(e) },
  );

  /** `{ layerItem* }`; `owner` names the construct for messages ("stage 's1'"). */
  private layerBody = this.RULE(
    "layerBody",
    (owner?: string): LayerItem[] => {
      const items: LayerItem[] = [];
      return this.framed({ kind: "body", what: owner ?? "a block", closer: T.RBrace, partial: () => items }, () => {
        this.CONSUME(T.LBrace);
        this.MANY(() => {
          const item = this.SUBRULE(this.layerItem);
          this.ACTION(() => item && items.push(item));
        });
        this.CONSUME(T.RBrace);
        return items;
      });
    },
    { recoveryValueFunc: () => this.recovered<LayerItem[]>() ?? [] },
  );

  private layerItem = this.RULE(
    "layerItem",
    (): LayerItem | null => {
      const start = this.startHere();
      return this.OR([
        {
          ALT: () => {
            this.CONSUME(T.Repeat);
            const count = this.SUBRULE(this.expr);
            const body = this.SUBRULE(this.layerBody, { ARGS: ["repeat"] });
            return this.ACTION((): LayerItem => ({ kind: "repeat", count, body, span: this.spanFrom(start) }));
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.Residual);
            const body = this.SUBRULE2(this.layerBody, { ARGS: ["residual"] });
            let shortcut: LayerItem[] | null = null;
            this.OPTION(() => {
              this.CONSUME(T.Shortcut);
              shortcut = this.SUBRULE3(this.layerBody, { ARGS: ["shortcut"] });
            });
            return this.ACTION((): LayerItem => ({ kind: "residual", body, shortcut, span: this.spanFrom(start) }));
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.Concat);
            const body = this.SUBRULE4(this.layerBody, { ARGS: ["concat"] });
            return this.ACTION((): LayerItem => ({ kind: "concat", body, span: this.spanFrom(start) }));
          },
        },
        {
          ALT: () => {
            const name = this.ident();
            let args: Arg[] | null = null;
            this.OPTION2(() => {
              args = this.SUBRULE(this.args, { ARGS: [this.ACTION(() => name.name)] });
            });
            return this.ACTION((): LayerItem => ({ kind: "layer", name, args, span: this.spanFrom(start) }));
          },
        },
      ]);
    },
    { recoveryValueFunc: () => null },
  );

  /** `( arg, ... )` after `callee`. */
  private args = this.RULE(
    "args",
    (callee?: string): Arg[] => {
      const args: Arg[] = [];
      const adopt = (kind: FrameKind, node: unknown): void => {
        if (kind === "arg") args.push(node as Arg);
      };
      const frame: Frame = { kind: "args", what: `the arguments of '${callee ?? ""}'`, closer: T.RParen, partial: () => args, adopt };
      return this.framed(frame, () => {
        this.CONSUME(T.LParen);
        this.OPTION(() => {
          const first = this.SUBRULE(this.arg);
          this.ACTION(() => first && args.push(first));
          this.MANY(() => {
            this.CONSUME(T.Comma);
            const next = this.SUBRULE2(this.arg);
            this.ACTION(() => next && args.push(next));
          });
          this.OPTION2(() => this.CONSUME2(T.Comma));
        });
        this.CONSUME(T.RParen);
        return args;
      });
    },
    { recoveryValueFunc: () => this.recovered<Arg[]>() ?? [] },
  );

  private arg = this.RULE(
    "arg",
    (): Arg | null => {
      const start = this.startHere();
      let name: Ident | null = null;
      let value: Expr | null = null;
      const build = (error?: Span): Arg => ({ name, value: value ?? errorAt(error!), span: this.spanFrom(start) });
      return this.framed({ kind: "arg", what: "an argument", closer: null, partial: build }, () => {
        this.OPTION(() => {
          name = this.ident();
          this.CONSUME(T.Equals);
        });
        value = this.SUBRULE(this.expr);
        return this.ACTION(() => build());
      });
    },
    { recoveryValueFunc: (e) => this.recovered<Arg>(e) },
  );

  /**
   * `-`* primary (op `-`* primary)*, folded by precedence in code. Unary minus is a loop and the
   * binary levels are not separate rules, so only brackets cost stack depth (bounded by the depth guard).
   */
  expr = this.RULE(
    "expr",
    (): Expr => {
      const operands: Expr[] = [];
      const ops: IToken[] = [];
      operands.push(this.SUBRULE(this.signed));
      this.MANY(() => {
        const op = this.OR([
          { ALT: () => this.CONSUME(T.Plus) },
          { ALT: () => this.CONSUME(T.Minus) },
          { ALT: () => this.CONSUME(T.Star) },
          { ALT: () => this.CONSUME(T.Slash) },
          { ALT: () => this.CONSUME(T.Percent) },
        ]);
        ops.push(op);
        operands.push(this.SUBRULE2(this.signed));
      });
      return this.ACTION(() => foldBinary(operands, ops.map((t) => t.image as BinaryOp)));
    },
    { recoveryValueFunc: (e) => this.errorExpr(e.token) },
  );

  private signed = this.RULE(
    "signed",
    (): Expr => {
      const minuses: IToken[] = [];
      this.MANY(() => {
        minuses.push(this.CONSUME(T.Minus));
      });
      const operand = this.SUBRULE(this.primary);
      return this.ACTION(() => {
        let result = operand;
        for (let i = minuses.length - 1; i >= 0; i--) {
          result = { kind: "unary", op: "-", operand: result, span: { start: minuses[i]!.startOffset, end: result.span.end } };
        }
        return result;
      });
    },
    { recoveryValueFunc: (e) => this.errorExpr(e.token) },
  );

  private primary = this.RULE(
    "primary",
    (): Expr => {
      const start = this.startHere();
      return this.OR([
        {
          ALT: () => {
            const tok = this.CONSUME(T.NumberLit);
            return this.ACTION((): Expr => ({ kind: "number", value: Number(tok.image), raw: tok.image, span: tokenSpan(tok) }));
          },
        },
        {
          ALT: () => {
            const tok = this.CONSUME(T.StringTok);
            return this.ACTION((): Expr => ({ kind: "string", value: unquote(tok.image), span: tokenSpan(tok) }));
          },
        },
        {
          ALT: () => {
            const callee = this.ident(1, T.ValueName);
            let args: Arg[] | null = null;
            this.OPTION(() => {
              args = this.SUBRULE(this.args, { ARGS: [this.ACTION(() => callee.name)] });
            });
            return this.ACTION((): Expr => {
              if (args === null) return { kind: "ident", name: callee.name, span: callee.span };
              return { kind: "call", callee, args, span: this.spanFrom(start) };
            });
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.LParen);
            const inner = this.framed({ kind: "group", what: "a parenthesized expression", closer: T.RParen, partial: NO_PARTIAL }, () => {
              const e = this.SUBRULE(this.expr);
              this.CONSUME(T.RParen);
              return e;
            });
            // Parentheses leave no node; the inner expression's span grows to cover them so that
            // enclosing spans (`(a + b) * c`) start and end at the right characters.
            return this.ACTION((): Expr => ({ ...inner, span: this.spanFrom(start) }));
          },
        },
        { ALT: () => this.SUBRULE(this.list) },
        { ALT: () => this.SUBRULE(this.map) },
      ]);
    },
    { recoveryValueFunc: (e) => this.errorExpr(e.token) },
  );

  private list = this.RULE(
    "list",
    (): Expr => {
      const start = this.startHere();
      const items: Expr[] = [];
      return this.framed({ kind: "list", what: "a list", closer: T.RBracket, partial: NO_PARTIAL }, () => {
        this.CONSUME(T.LBracket);
        this.OPTION(() => {
          items.push(this.SUBRULE(this.expr));
          this.MANY(() => {
            this.CONSUME(T.Comma);
            items.push(this.SUBRULE2(this.expr));
          });
          this.OPTION2(() => this.CONSUME2(T.Comma));
        });
        this.CONSUME(T.RBracket);
        return this.ACTION((): Expr => ({ kind: "list", items, span: this.spanFrom(start) }));
      });
    },
    { recoveryValueFunc: (e) => this.errorExpr(e.token) },
  );

  private map = this.RULE(
    "map",
    (): Expr => {
      const start = this.startHere();
      const entries: MapEntry[] = [];
      const adopt = (kind: FrameKind, node: unknown): void => {
        if (kind === "mapEntry") entries.push(node as MapEntry);
      };
      return this.framed({ kind: "map", what: "a teacher map", closer: T.RBrace, partial: NO_PARTIAL, adopt }, () => {
        this.CONSUME(T.LBrace);
        this.OPTION(() => {
          const first = this.SUBRULE(this.mapEntry);
          this.ACTION(() => first && entries.push(first));
          this.MANY(() => {
            this.CONSUME(T.Comma);
            const next = this.SUBRULE2(this.mapEntry);
            this.ACTION(() => next && entries.push(next));
          });
          this.OPTION2(() => this.CONSUME2(T.Comma));
        });
        this.CONSUME(T.RBrace);
        return this.ACTION((): Expr => ({ kind: "map", entries, span: this.spanFrom(start) }));
      });
    },
    { recoveryValueFunc: (e) => this.errorExpr(e.token) },
  );

  private mapEntry = this.RULE(
    "mapEntry",
    (): MapEntry | null => {
      const start = this.startHere();
      let key = this.placeholderIdent(start);
      let value: Expr | null = null;
      const build = (error?: Span): MapEntry => ({ key, value: value ?? errorAt(error!), span: this.spanFrom(start) });
      return this.framed({ kind: "mapEntry", what: "a teacher entry", closer: null, partial: build }, () => {
        key = this.ident();
        this.CONSUME(T.Arrow);
        value = this.SUBRULE(this.expr);
        return this.ACTION(() => build());
      });
    },
    { recoveryValueFunc: (e) => this.recovered<MapEntry>(e) },
  );

  // ---------------------------------------------------------------------------------------------
  // Helpers

  /** Consume an identifier; a recovery-inserted one becomes name "" with a zero-width span at the error. */
  private ident(idx: 1 | 2 = 1, type: TokenType = T.Ident): Ident {
    const tok = idx === 1 ? this.CONSUME(type) : this.CONSUME2(type);
    return this.ACTION(() => {
      if (tok.isInsertedInRecovery || Number.isNaN(tok.startOffset)) return this.placeholderIdent(this.startHere());
      return { name: tok.image, span: tokenSpan(tok) };
    });
  }

  private placeholderIdent(at: number): Ident {
    return { name: "", span: { start: at, end: at } };
  }

  /** Offset where the next token starts (end of input at EOF). */
  private startHere(): number {
    const tok = this.LA(1);
    return tok.tokenType === EOF || Number.isNaN(tok.startOffset) ? this.textLength : tok.startOffset;
  }

  /** Span from `start` to the end of the last real token consumed (never before `start`). */
  private spanFrom(start: number): Span {
    const last = this.LA(0);
    const end = last.tokenType === EOF || Number.isNaN(last.startOffset) ? start : tokenSpan(last).end;
    return { start, end: Math.max(start, end) };
  }

  private errorExpr(tok: IToken | undefined): Expr {
    return errorAt(this.errorSpan(tok));
  }

  /** Where a recognition error happened: its token, or a zero-width span where parsing stands. */
  private errorSpan(tok: IToken | undefined): Span {
    if (!tok || tok.tokenType === EOF || Number.isNaN(tok.startOffset)) {
      const at = this.startHere();
      return { start: at, end: at };
    }
    return tokenSpan(tok);
  }

  /** Run `body` with `frame` open; the frame is closed even when an error unwinds through it. */
  private framed<R>(frame: Frame, body: (frame: Frame) => R): R {
    if (this.RECORDING_PHASE) return body(frame);
    this.frames.push(frame);
    let completed = false;
    try {
      const result = body(frame);
      completed = true;
      return result;
    } finally {
      this.frames.pop();
      this.lastClosed = frame;
      const parent = this.frames[this.frames.length - 1];
      if (!completed && parent) parent.pendingChild = frame;
    }
  }

  /**
   * Recovery value of a framed rule: its node as parsed so far. chevrotain calls this right after
   * the rule's own frame closed, so `lastClosed` is that frame.
   */
  private recovered<R>(e?: IRecognitionException): R | null {
    const frame = this.lastClosed;
    this.lastClosed = null;
    if (!frame) return null;
    // Recovered here, so the parent must not adopt this frame a second time.
    const parent = this.frames[this.frames.length - 1];
    if (parent && parent.pendingChild === frame) parent.pendingChild = null;
    return buildPartial(frame, this.errorSpan(e?.token)) as R;
  }

  // ---------------------------------------------------------------------------------------------
  // Error messages in the language's words

  readonly messages: IParserErrorMessageProvider = this.buildMessages();

  private buildMessages(): IParserErrorMessageProvider {
    const record = (code: SyntaxErrorInfo["code"], args: Record<string, string>, at: IToken): string => {
      this.errorCount++;
      if (this.errorCount > MAX_SYNTAX_ERRORS) throw new TooManyErrors(at);
      const message = fillTemplate(CODES[code].message, args);
      this.errorInfo.set(message, { code, args });
      return message;
    };
    return {
      buildMismatchTokenMessage: ({ expected, actual }) => {
        // Expecting the end of input means the file rule stopped at something that is not a model.
        if (expected === EOF) return record("MEX1011", { found: describeToken(actual), context: " outside of a model" }, actual);
        const closing = this.closingContext(expected);
        return record("MEX1010", { expected: `${labelOf(expected)}${closing}`, found: describeToken(actual) }, actual);
      },
      buildNotAllInputParsedMessage: ({ firstRedundant }) =>
        record("MEX1011", { found: describeToken(firstRedundant), context: " outside of a model" }, firstRedundant),
      buildNoViableAltMessage: ({ expectedPathsPerAlt, actual, ruleName }) => {
        const tok = actual[0]!;
        const expected = EXPECTED_BY_RULE[ruleName] ?? joinAlternatives(expectedPathsPerAlt.flatMap((alt) => alt.map((path) => labelOf(path[0]!))));
        return record("MEX1011", { found: describeToken(tok), context: `${this.whereContext()}; expected ${expected}` }, tok);
      },
      buildEarlyExitMessage: ({ expectedIterationPaths, actual }) => {
        const tok = actual[0]!;
        const expected = joinAlternatives(expectedIterationPaths.map((path) => labelOf(path[0]!)));
        return record("MEX1011", { found: describeToken(tok), context: `${this.whereContext()}; expected ${expected}` }, tok);
      },
    };
  }

  /** " to close stage 's1'" when `expected` is the closer of an open construct. */
  private closingContext(expected: TokenType): string {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const frame = this.frames[i]!;
      if (frame.closer === null) continue;
      return frame.closer === expected ? ` to close ${frame.what}` : "";
    }
    return "";
  }

  /** " in stage 's1'" for the innermost declaration. */
  private whereContext(): string {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const frame = this.frames[i]!;
      if (CONTEXT_KINDS.has(frame.kind)) return ` in ${frame.what}`;
    }
    return "";
  }
}

function lateBoundMessages(get: () => IParserErrorMessageProvider): IParserErrorMessageProvider {
  return {
    buildMismatchTokenMessage: (options) => get().buildMismatchTokenMessage(options),
    buildNotAllInputParsedMessage: (options) => get().buildNotAllInputParsedMessage(options),
    buildNoViableAltMessage: (options) => get().buildNoViableAltMessage(options),
    buildEarlyExitMessage: (options) => get().buildEarlyExitMessage(options),
  };
}

/** What a failed alternation expected, in words, where the token list would be noise. */
const EXPECTED_BY_RULE: Record<string, string> = {
  primary: "a value (a number, a string, a name, '(', '[' or '{')",
  layerItem: "a layer, 'repeat', 'residual' or 'concat'",
  modelItem: "'input', 'classes', 'let', 'backbone', 'exit' or a section like 'train { ... }'",
};

function errorAt(span: Span): Expr {
  return { kind: "error", span };
}

function labelOf(type: TokenType): string {
  if (type === EOF) return "end of input";
  return type.LABEL ?? type.name;
}

function joinAlternatives(labels: string[]): string {
  const unique = [...new Set(labels)];
  if (unique.length <= 1) return unique[0] ?? "something else";
  return `${unique.slice(0, -1).join(", ")} or ${unique[unique.length - 1]}`;
}

/** A token as the user wrote it: `'exit'`, `'covn'`, `'"abc"'`, or "end of input". */
export function describeToken(tok: IToken): string {
  if (tok.tokenType === EOF) return "end of input";
  const image = tok.image.length > 24 ? `${tok.image.slice(0, 21)}...` : tok.image;
  return `'${image}'`;
}

export function tokenSpan(tok: IToken): Span {
  // From the image: the lexer tracks only start offsets cheaply, and the image is exact.
  return { start: tok.startOffset, end: tok.startOffset + tok.image.length };
}

/** Contents of a string token: `\"` and `\\` are escapes; any other backslash stays as written. */
export function unquote(image: string): string {
  const terminated = image.length >= 2 && image.endsWith('"') && !isEscapedQuoteAt(image, image.length - 1);
  const body = image.slice(1, terminated ? -1 : undefined);
  return body.replace(/\\(["\\])/g, "$1");
}

function isEscapedQuoteAt(image: string, index: number): boolean {
  let backslashes = 0;
  for (let i = index - 1; i > 0 && image[i] === "\\"; i--) backslashes++;
  return backslashes % 2 === 1;
}

const MULTIPLICATIVE = new Set<BinaryOp>(["*", "/", "%"]);

/** Fold `o0 op1 o1 op2 o2 ...` left-associatively, `* / %` binding tighter than `+ -`. */
export function foldBinary(operands: readonly Expr[], ops: readonly BinaryOp[]): Expr {
  const binary = (op: BinaryOp, left: Expr, right: Expr): Expr => ({
    kind: "binary",
    op,
    left,
    right,
    span: { start: left.span.start, end: Math.max(left.span.end, right.span.end) },
  });
  const terms: Expr[] = [operands[0]!];
  const additive: BinaryOp[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const right = operands[i + 1]!;
    if (MULTIPLICATIVE.has(op)) terms[terms.length - 1] = binary(op, terms[terms.length - 1]!, right);
    else {
      additive.push(op);
      terms.push(right);
    }
  }
  let result = terms[0]!;
  for (let i = 0; i < additive.length; i++) result = binary(additive[i]!, result, terms[i + 1]!);
  return result;
}

let shared: MexParser | null = null;

/** The parser instance, built once (grammar analysis is the expensive part) and reused. */
export function getParser(): MexParser {
  shared ??= new MexParser();
  return shared;
}
