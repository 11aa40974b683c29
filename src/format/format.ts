/**
 * The canonical formatter for .mex specs: syntax tree + comments -> text.
 *
 * Style (stable: format(format(x)) === format(x)):
 * - 2-space indentation; model items, backbone items and section entries one per line
 *   (`key: value`, separators `,`/`;` dropped); at most one blank line kept where the source had one.
 * - A layer block (`stage s1 { ... }`, exit heads, repeat/residual/shortcut/concat bodies) stays on one
 *   line when it was written on one line, has no comments inside and fits in `width` columns.
 *   Otherwise it breaks: layers written on one source line stay together on one line (so
 *   `dwconv bn relu6 conv(64, kernel=1) bn relu6` remains a unit), unless that line would be too wide,
 *   then one layer per line. A block that was on one line but did not fit gets one layer per line.
 * - Expressions are printed canonically (`conv(32, kernel=3)`, `a * (b + c)`, numbers as written).
 * - Comments are kept exactly: a comment that trailed code on its line still trails it (runs of
 *   consecutive trailing comments are aligned), an own-line comment stays on its own line before the
 *   next item. A comment in a place the layout has no slot for (inside an argument list, between
 *   `exit` and its name, ...) makes the printer keep that construct's source text verbatim.
 *
 * Line endings follow the file's first line break (LF or CRLF). The formatter refuses files with syntax errors, and checks its own output (it parses, the syntax tree
 * is unchanged, every comment is kept) before returning it, so it can never lose content.
 */
import type { Span } from "../ir/model.js";
import type { Arg, Comment, Entry, Expr, LayerItem, ModelDecl, ModelItem, SpecFile, StageDecl, LetDecl } from "../syntax/ast.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { parse, tokenize } from "../syntax/parse.js";

export const DEFAULT_WIDTH = 100;
const INDENT = 2;

export interface FormatOptions {
  /** Maximum line width for keeping a block on one line (default 100). */
  readonly width?: number;
}

export type FormatResult =
  | { readonly ok: true; readonly text: string; readonly changed: boolean }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[]; readonly reason: "syntax" | "internal"; readonly message: string };

/** Format one spec. Never throws. */
export function formatSource(text: string, file = "<input>", options: FormatOptions = {}): FormatResult {
  const parsed = parse(text, file);
  const errors = parsed.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) return { ok: false, diagnostics: parsed.diagnostics, reason: "syntax", message: `${file} has syntax errors; not formatted` };
  let out: string;
  try {
    out = new Printer(text, parsed.ast, options.width ?? DEFAULT_WIDTH).print();
  } catch (error) {
    return { ok: false, diagnostics: [], reason: "internal", message: `internal formatter error: ${(error as Error).message}` };
  }
  let problem: string | null;
  try {
    problem = verifyOutput(parsed.ast, out, file);
  } catch (error) {
    problem = (error as Error).message;
  }
  if (problem) return { ok: false, diagnostics: [], reason: "internal", message: `internal formatter error (output not written): ${problem}` };
  if (lineEnding(text) === "\r\n") out = out.replace(/\r\n|\r|\n/g, "\r\n");
  return { ok: true, text: out, changed: out !== text };
}

/**
 * The file's line ending, taken from its first line break (prettier's `endOfLine: "auto"`): a CRLF
 * checkout stays CRLF, so `mex fmt --check` does not fail every file of a Windows working tree.
 */
function lineEnding(text: string): "\n" | "\r\n" {
  return text.match(/\r\n|\r|\n/)?.[0] === "\r\n" ? "\r\n" : "\n";
}

// -------------------------------------------------------------------------------------------------
// Lines

/** One output line. `raw` lines are verbatim continuation lines (not re-indented). */
interface Line {
  indent: number;
  text: string;
  comment?: string;
  raw?: boolean;
}

const BLANK: Readonly<Line> = { indent: 0, text: "" };

function isBlank(line: Line): boolean {
  return !line.raw && line.text === "" && line.comment === undefined;
}

/** Append `more` to the end of `lines`, joining its first line onto the last line with `sep`. */
function appendInline(lines: Line[], more: readonly Line[], sep = " "): void {
  const last = lines[lines.length - 1];
  if (!last || more.length === 0) {
    lines.push(...more.map((l) => ({ ...l })));
    return;
  }
  if (last.comment !== undefined) throw new Error("cannot continue a line after its trailing comment");
  last.text += sep + more[0]!.text;
  if (more[0]!.comment !== undefined) last.comment = more[0]!.comment;
  lines.push(...more.slice(1).map((l) => ({ ...l })));
}

function lineWidth(line: Line): number {
  return line.raw ? line.text.length : line.indent + line.text.length;
}

function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/** Verbatim source (a comment or a construct): first line at the current position, the rest raw. */
function verbatimLines(text: string, indent: number): Line[] {
  const [first, ...rest] = splitLines(text);
  return [{ indent, text: first! }, ...rest.map((t) => ({ indent: 0, text: t, raw: true }))];
}

/** Runs of consecutive lines with trailing comments (same indent) get their comments aligned. */
function alignTrailingComments(lines: Line[]): void {
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.comment === undefined || line.raw) {
      i++;
      continue;
    }
    let j = i;
    while (j < lines.length && lines[j]!.comment !== undefined && !lines[j]!.raw && lines[j]!.indent === line.indent) j++;
    const column = Math.max(...lines.slice(i, j).map((l) => l.text.length));
    for (let k = i; k < j; k++) lines[k]!.text = lines[k]!.text.padEnd(column);
    i = j;
  }
}

function render(lines: readonly Line[]): string {
  const out = lines.map((line) => {
    if (line.raw) return line.text;
    const code = line.text === "" && line.comment === undefined ? "" : " ".repeat(line.indent) + line.text;
    if (line.comment === undefined) return code;
    return line.text === "" ? `${" ".repeat(line.indent)}${line.comment}` : `${code}  ${line.comment}`;
  });
  // Trailing whitespace goes everywhere, including the ends of comment lines (the only change a comment may see).
  return `${out.map((l) => l.replace(/[ \t\f\v\uFEFF]+$/, "")).join("\n").replace(/\n+$/, "")}\n`;
}

// -------------------------------------------------------------------------------------------------
// The printer

interface GapComment {
  readonly comment: Comment;
  /** A blank line separated it from what came before. */
  readonly blankBefore: boolean;
}

/** Comments between two elements: those trailing the previous element's line, then own-line ones. */
interface Gap {
  readonly trailing: Comment[];
  readonly leading: GapComment[];
  /** A blank line right before the next element (after the last leading comment). */
  readonly blankBefore: boolean;
}

class Printer {
  private readonly comments: readonly Comment[];
  /** `{` offset -> matching `}` offset. */
  private readonly braces = new Map<number, number>();
  private readonly lbraces: number[] = [];
  private readonly used = new Set<Comment>();

  constructor(
    private readonly text: string,
    private readonly ast: SpecFile,
    private readonly width: number,
  ) {
    this.comments = [...ast.comments].sort((a, b) => a.span.start - b.span.start);
    const stack: number[] = [];
    for (const tok of tokenize(text)) {
      if (tok.type === "LBrace") {
        stack.push(tok.span.start);
        this.lbraces.push(tok.span.start);
      } else if (tok.type === "RBrace") {
        const open = stack.pop();
        if (open !== undefined) this.braces.set(open, tok.span.start);
      }
    }
  }

  print(): string {
    const model = this.ast.models[0]!;
    const lines: Line[] = [];
    const before = this.gap(0, model.span.start, { atStart: true, fileStart: true });
    this.emitLeading(lines, before, 0);
    lines.push(...this.modelDecl(model));
    const after = this.gap(model.span.end, this.text.length, { atStart: false });
    this.emitTrailing(lines, after.trailing);
    this.emitLeading(lines, after, 0, true);
    const missing = this.comments.filter((c) => !this.used.has(c));
    if (missing.length > 0) throw new Error(`comment at offset ${missing[0]!.span.start} has no place in the layout`);
    alignTrailingComments(lines);
    return render(lines);
  }

  // --- comments and gaps ---------------------------------------------------------------------------

  private commentsIn(start: number, end: number): Comment[] {
    return this.comments.filter((c) => c.span.start >= start && c.span.end <= end);
  }

  private newlines(start: number, end: number): number {
    const m = this.text.slice(start, end).match(/\r\n|\r|\n/g);
    return m ? m.length : 0;
  }

  /**
   * Split the comments in [from, to). Trailing: single-line comments on the same line as `from`
   * (the end of the previous element, or a block's `{`). `atStart`: no blank line is kept before the
   * first element of a block; `fileStart`: `from` is the start of the file (nothing to trail).
   */
  private gap(from: number, to: number, { atStart, fileStart = false }: { atStart: boolean; fileStart?: boolean }): Gap {
    const inGap = this.commentsIn(from, to);
    const trailing: Comment[] = [];
    const leading: GapComment[] = [];
    let pos = from;
    let index = 0;
    if (!fileStart) {
      while (index < inGap.length) {
        const c = inGap[index]!;
        if (this.newlines(pos, c.span.start) > 0 || /[\r\n]/.test(c.text)) break;
        trailing.push(c);
        pos = c.span.end;
        index++;
        if (!c.block) break;
      }
    }
    for (; index < inGap.length; index++) {
      const c = inGap[index]!;
      const blankBefore = !(atStart && leading.length === 0) && this.newlines(pos, c.span.start) >= 2;
      leading.push({ comment: c, blankBefore });
      pos = c.span.end;
    }
    const blankBefore = !(atStart && leading.length === 0) && this.newlines(pos, to) >= 2;
    for (const c of inGap) this.used.add(c);
    return { trailing, leading, blankBefore };
  }

  private emitTrailing(lines: Line[], trailing: readonly Comment[]): void {
    if (trailing.length === 0) return;
    const last = lines[lines.length - 1]!;
    const text = trailing.map((c) => c.text).join(" ");
    last.comment = last.comment === undefined ? text : `${last.comment} ${text}`;
  }

  /** Own-line comments of a gap; `dangling`: they close a block (no element follows). */
  private emitLeading(lines: Line[], gap: Gap, indent: number, dangling = false): void {
    for (const { comment, blankBefore } of gap.leading) {
      if (blankBefore && lines.length > 0) lines.push({ ...BLANK });
      lines.push(...verbatimLines(comment.text, indent));
    }
    if (!dangling && gap.blankBefore && lines.length > 0 && !isBlank(lines[lines.length - 1]!)) lines.push({ ...BLANK });
  }

  // --- braces and verbatim fallback ----------------------------------------------------------------

  /** The first `{` at or after `offset`, and its matching `}`. */
  private braceAfter(offset: number): { open: number; close: number } {
    const open = this.lbraces.find((b) => b >= offset);
    if (open === undefined) throw new Error(`no '{' after offset ${offset}`);
    const close = this.braces.get(open);
    if (close === undefined) throw new Error(`unbalanced '{' at offset ${open}`);
    return { open, close };
  }

  /** Comments inside `span` but outside every interior in `allowed` (the layout has no slot for them). */
  private hasStrayComments(span: Span, allowed: readonly { open: number; close: number }[]): boolean {
    return this.commentsIn(span.start, span.end).some((c) => !allowed.some((b) => c.span.start > b.open && c.span.end <= b.close));
  }

  private verbatim(span: Span, indent: number): Line[] {
    for (const c of this.commentsIn(span.start, span.end)) this.used.add(c);
    return verbatimLines(this.text.slice(span.start, span.end), indent);
  }

  // --- model ---------------------------------------------------------------------------------------

  private modelDecl(model: ModelDecl): Line[] {
    const body = this.braceAfter(model.name.span.end);
    if (this.hasStrayComments(model.span, [body])) return this.verbatim(model.span, 0);
    const lines: Line[] = [{ indent: 0, text: `model ${model.name.name} {` }];
    this.itemList(lines, body, model.items, INDENT, (item) => this.modelItem(item, INDENT));
    return lines;
  }

  /**
   * Elements of a block, one (or more) lines each, with the comments around them; closes the block
   * with `}` at the outer indentation.
   */
  private itemList<T extends { span: Span }>(lines: Line[], body: { open: number; close: number }, items: readonly T[], indent: number, print: (item: T) => Line[]): void {
    let from = body.open + 1;
    let first = true;
    for (const item of items) {
      const gap = this.gap(from, item.span.start, { atStart: first });
      this.emitTrailing(lines, gap.trailing);
      this.emitLeading(lines, gap, indent);
      lines.push(...print(item));
      from = item.span.end;
      first = false;
    }
    const end = this.gap(from, body.close, { atStart: first });
    this.emitTrailing(lines, end.trailing);
    this.emitLeading(lines, end, indent, true);
    lines.push({ indent: indent - INDENT, text: "}" });
  }

  private modelItem(item: ModelItem, indent: number): Line[] {
    switch (item.kind) {
      case "let":
        return this.simple(item, indent, `let ${item.name.name} = ${this.expr(item.value)}`);
      case "input":
        return this.simple(item, indent, `input ${this.expr(item.value)}`);
      case "classes":
        return this.simple(item, indent, `classes ${this.expr(item.value)}`);
      case "backbone": {
        const body = this.braceAfter(item.span.start);
        if (this.hasStrayComments(item.span, [body])) return this.verbatim(item.span, indent);
        const lines: Line[] = [{ indent, text: "backbone {" }];
        this.itemList<StageDecl | LetDecl>(lines, body, item.items, indent + INDENT, (inner) =>
          inner.kind === "stage" ? this.stage(inner, indent + INDENT) : this.simple(inner, indent + INDENT, `let ${inner.name.name} = ${this.expr(inner.value)}`),
        );
        return lines;
      }
      case "exit": {
        const headerEnd = item.teachers ? item.teachers.span.end : item.after.span.end;
        const body = this.braceAfter(headerEnd);
        if (this.hasStrayComments(item.span, [body])) return this.verbatim(item.span, indent);
        const teachers = item.teachers ? ` teachers ${this.expr(item.teachers)}` : "";
        return this.withBody(`exit ${item.name.name} after ${item.after.name}${teachers}`, body, item.head, indent);
      }
      case "section": {
        const body = this.braceAfter(item.name.span.end);
        if (this.hasStrayComments(item.span, [body])) return this.verbatim(item.span, indent);
        const lines: Line[] = [{ indent, text: `${item.name.name} {` }];
        this.itemList<Entry>(lines, body, item.entries, indent + INDENT, (entry) => this.simple(entry, indent + INDENT, `${entry.key.name}: ${this.expr(entry.value)}`));
        return lines;
      }
    }
  }

  /** A one-line construct, or its source text when a comment sits inside it. */
  private simple(node: { span: Span }, indent: number, text: string): Line[] {
    if (this.hasStrayComments(node.span, [])) return this.verbatim(node.span, indent);
    return [{ indent, text }];
  }

  private stage(stage: StageDecl, indent: number): Line[] {
    const body = this.braceAfter(stage.name.span.end);
    if (this.hasStrayComments(stage.span, [body])) return this.verbatim(stage.span, indent);
    return this.withBody(`stage ${stage.name.name}`, body, stage.body, indent);
  }

  // --- layer blocks ---------------------------------------------------------------------------------

  /** `header { items }` on one line when allowed, else broken. */
  private withBody(header: string, body: { open: number; close: number }, items: readonly LayerItem[], indent: number): Line[] {
    const lines: Line[] = [{ indent, text: header }];
    appendInline(lines, this.layerBody(body, items, indent, indent + header.length + 1));
    return lines;
  }

  /** Lines of `{ ... }`; the first line starts with `{` at column `column`. */
  private layerBody(body: { open: number; close: number }, items: readonly LayerItem[], indent: number, column: number): Line[] {
    const interior = this.text.slice(body.open + 1, body.close);
    const hasComments = this.commentsIn(body.open, body.close + 1).length > 0;
    const oneLineInSource = !/[\r\n]/.test(interior);
    if (items.length === 0 && !hasComments) return [{ indent, text: "{}" }];
    if (oneLineInSource && !hasComments) {
      const flat = `{ ${items.map((item) => this.flatItem(item)).join(" ")} }`;
      if (column + flat.length <= this.width) return [{ indent, text: flat }];
    }
    const lines: Line[] = [{ indent, text: "{" }];
    const inner = indent + INDENT;
    let from = body.open + 1;
    let group: Line[] | null = null;
    let groupItems: Line[][] = [];
    const flush = (): void => {
      if (!group) return;
      // A group that got too wide is split into one layer per line.
      if (groupItems.length > 1 && group.some((l) => lineWidth(l) > this.width)) for (const itemLines of groupItems) lines.push(...itemLines);
      else lines.push(...group);
      group = null;
      groupItems = [];
    };
    let first = true;
    for (const item of items) {
      const gap = this.gap(from, item.span.start, { atStart: first });
      const sameLine = !first && gap.trailing.length === 0 && gap.leading.length === 0 && this.newlines(from, item.span.start) === 0;
      const itemLines = this.layerItem(item, inner);
      if (sameLine && group) {
        appendInline(group, itemLines);
        groupItems.push(itemLines);
      } else {
        flush();
        this.emitTrailing(lines, gap.trailing);
        this.emitLeading(lines, gap, inner);
        group = itemLines.map((l) => ({ ...l }));
        groupItems = [itemLines];
      }
      from = item.span.end;
      first = false;
    }
    const end = this.gap(from, body.close, { atStart: first });
    flush();
    this.emitTrailing(lines, end.trailing);
    this.emitLeading(lines, end, inner, true);
    lines.push({ indent, text: "}" });
    return lines;
  }

  private layerItem(item: LayerItem, indent: number): Line[] {
    switch (item.kind) {
      case "layer":
        return this.simple(item, indent, this.flatItem(item));
      case "repeat": {
        const body = this.braceAfter(item.count.span.end);
        if (this.hasStrayComments(item.span, [body])) return this.verbatim(item.span, indent);
        return this.withBody(`repeat ${this.expr(item.count)}`, body, item.body, indent);
      }
      case "concat": {
        const body = this.braceAfter(item.span.start);
        if (this.hasStrayComments(item.span, [body])) return this.verbatim(item.span, indent);
        return this.withBody("concat", body, item.body, indent);
      }
      case "residual": {
        const body = this.braceAfter(item.span.start);
        const shortcut = item.shortcut ? this.braceAfter(body.close + 1) : null;
        if (this.hasStrayComments(item.span, shortcut ? [body, shortcut] : [body])) return this.verbatim(item.span, indent);
        const lines = this.withBody("residual", body, item.body, indent);
        if (shortcut && item.shortcut) {
          appendInline(lines, [{ indent, text: "shortcut" }]);
          appendInline(lines, this.layerBody(shortcut, item.shortcut, indent, lineWidth(lines[lines.length - 1]!) + 1));
        }
        return lines;
      }
    }
  }

  /** A layer item on one line (only called for items without comments). */
  private flatItem(item: LayerItem): string {
    const block = (items: readonly LayerItem[]) => (items.length === 0 ? "{}" : `{ ${items.map((i) => this.flatItem(i)).join(" ")} }`);
    switch (item.kind) {
      case "layer":
        return item.args === null ? item.name.name : `${item.name.name}(${this.args(item.args)})`;
      case "repeat":
        return `repeat ${this.expr(item.count)} ${block(item.body)}`;
      case "concat":
        return `concat ${block(item.body)}`;
      case "residual":
        return `residual ${block(item.body)}${item.shortcut ? ` shortcut ${block(item.shortcut)}` : ""}`;
    }
  }

  // --- expressions -----------------------------------------------------------------------------------

  private args(args: readonly Arg[]): string {
    return args.map((a) => (a.name ? `${a.name.name}=${this.expr(a.value)}` : this.expr(a.value))).join(", ");
  }

  private expr(e: Expr): string {
    switch (e.kind) {
      case "number":
        return e.raw;
      case "string": {
        // The span may include parentheses around the literal; keep the literal's own spelling.
        const m = this.text.slice(e.span.start, e.span.end).match(/"(?:[^"\\\r\n]|\\[^\r\n])*"/);
        return m ? m[0] : JSON.stringify(e.value);
      }
      case "ident":
        return e.name;
      case "call":
        return `${e.callee.name}(${this.args(e.args)})`;
      case "list":
        return `[${e.items.map((i) => this.expr(i)).join(", ")}]`;
      case "map":
        return e.entries.length === 0 ? "{}" : `{ ${e.entries.map((m) => `${m.key.name} <- ${this.expr(m.value)}`).join(", ")} }`;
      case "unary": {
        // Loops, not recursion: `- - - x` and `1 + 2 + ... + n` may be thousands deep.
        let minuses = 0;
        let operand: Expr = e;
        while (operand.kind === "unary") {
          minuses++;
          operand = operand.operand;
        }
        const inner = this.expr(operand);
        return "-".repeat(minuses) + (operand.kind === "binary" ? `(${inner})` : inner);
      }
      case "binary": {
        // Walk down the left spine while no parentheses are needed, then print back up.
        const spine: Extract<Expr, { kind: "binary" }>[] = [e];
        let base: Expr = e.left;
        while (base.kind === "binary" && precedence(base.op) >= precedence(spine[spine.length - 1]!.op)) {
          spine.push(base);
          base = base.left;
        }
        let text = base.kind === "binary" ? `(${this.expr(base)})` : this.expr(base);
        for (let i = spine.length - 1; i >= 0; i--) {
          const node = spine[i]!;
          // Left-associative: an equal-precedence right operand needs parentheses (`a - (b - c)`).
          const right = node.right.kind === "binary" && precedence(node.right.op) <= precedence(node.op) ? `(${this.expr(node.right)})` : this.expr(node.right);
          text = `${text} ${node.op} ${right}`;
        }
        return text;
      }
      case "error":
        throw new Error("syntax error node in a file without syntax errors");
    }
  }
}

function precedence(op: string): number {
  return op === "+" || op === "-" ? 1 : 2;
}

// -------------------------------------------------------------------------------------------------
// Self-check

/** Why the formatted text is not equivalent to the input, or null when it is. */
function verifyOutput(before: SpecFile, out: string, file: string): string | null {
  const again = parse(out, file);
  const error = again.diagnostics.find((d) => d.severity === "error");
  if (error) return `the output does not parse (${error.code}: ${error.message})`;
  if (fingerprint(before.models) !== fingerprint(again.ast.models)) return "the syntax tree changed";
  const texts = (c: readonly Comment[]) => c.map((x) => normalizeComment(x.text));
  if (JSON.stringify(texts(before.comments)) !== JSON.stringify(texts(again.ast.comments))) return "a comment changed or moved out of order";
  return null;
}

/** A comment as the formatter must keep it: same text, modulo line endings and trailing whitespace per line. */
export function normalizeComment(text: string): string {
  return splitLines(text)
    .map((l) => l.replace(/[ \t\f\v\uFEFF]+$/, ""))
    .join("\n");
}

/** The syntax tree without positions (what must survive formatting). */
export function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (k !== "span") out[k] = shape(v);
    return out;
  }
  return value;
}

/** A position-free serialisation of a tree, with an explicit stack (trees may be very deep). */
export function fingerprint(root: unknown): string {
  const parts: string[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      parts.push(`[${value.length}`);
      for (let i = value.length - 1; i >= 0; i--) stack.push(value[i]);
    } else if (value && typeof value === "object") {
      const entries = Object.entries(value).filter(([k]) => k !== "span");
      parts.push(`{${entries.map(([k]) => k).join(",")}`);
      for (let i = entries.length - 1; i >= 0; i--) stack.push(entries[i]![1]);
    } else parts.push(JSON.stringify(value) ?? "undefined");
  }
  return parts.join("|");
}
