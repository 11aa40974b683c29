/**
 * Rendering diagnostics: the text form (path:line:col, code frame with caret, hint), and the JSON
 * form that CI tools read. Colour only on a TTY and never when NO_COLOR is set.
 */
import pc from "picocolors";
import type { Diagnostic } from "./diagnostic.js";
import type { SourceFile } from "./source.js";

export interface RenderOptions {
  readonly color: boolean;
}

/** Colour when writing to a terminal, unless NO_COLOR is set (https://no-color.org). */
export function shouldColor(stream: { isTTY?: boolean }): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== "dumb";
}

export interface LocatedDiagnostic {
  readonly code: string;
  readonly severity: "error" | "warning";
  readonly message: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly column_?: never;
  readonly endColumn: number;
  readonly hint?: string;
}

/** 1-based line/column range of a diagnostic (the only place spans become positions). */
export function locate(d: Diagnostic, source: SourceFile): LocatedDiagnostic {
  const start = source.position(d.span.start);
  const end = source.position(Math.max(d.span.end, d.span.start));
  return {
    code: d.code,
    severity: d.severity,
    message: d.message,
    line: start.line,
    column: start.column,
    endLine: end.line,
    endColumn: end.column,
    ...(d.hint ? { hint: d.hint } : {}),
  };
}

/**
 *   specs/x.mex:12:5: error[MEX2001]: unknown layer 'covn'
 *     12 |     stage s1 { covn(32) bn relu }
 *        |                ^^^^
 *     = hint: did you mean 'conv'?
 */
export function renderText(d: Diagnostic, source: SourceFile, options: RenderOptions): string {
  const c = palette(options.color);
  const start = source.position(d.span.start);
  const label = d.severity === "error" ? c.error(`error[${d.code}]`) : c.warning(`warning[${d.code}]`);
  const lines = [`${c.bold(`${source.path}:${start.line}:${start.column}`)}: ${label}: ${c.bold(d.message)}`];
  lines.push(...codeFrame(d, source, c));
  for (const because of d.chain ?? []) lines.push(`${" ".repeat(gutterWidth(start.line) + 1)}${c.dim("= because")} ${because}`);
  if (d.hint) lines.push(`${" ".repeat(gutterWidth(start.line) + 1)}${c.hint("= hint:")} ${d.hint}`);
  return lines.join("\n");
}

function gutterWidth(line: number): number {
  return String(line).length + 2;
}

/** The source line with a caret run under the span (clipped to the first line of a multi-line span). */
function codeFrame(d: Diagnostic, source: SourceFile, c: Palette): string[] {
  const start = source.position(d.span.start);
  const end = source.position(d.span.end);
  const raw = source.lineText(start.line);
  // Tabs would misalign the caret; show them as spaces. Very long lines are cut around the caret.
  const text = raw.replace(/\t/g, " ");
  const lastColumn = end.line === start.line ? end.column : text.length + 1;
  const width = Math.max(1, lastColumn - start.column);
  const { shown, offset } = window(text, start.column - 1, 120);
  const gutter = String(start.line);
  const pad = " ".repeat(gutter.length);
  const caretColumn = start.column - 1 - offset;
  const caretWidth = Math.min(width, Math.max(1, shown.length - caretColumn));
  const mark = d.severity === "error" ? c.error : c.warning;
  return [`  ${c.dim(`${gutter} |`)} ${shown}`, `  ${c.dim(`${pad} |`)} ${" ".repeat(Math.max(0, caretColumn))}${mark("^".repeat(caretWidth))}`];
}

function window(text: string, column: number, max: number): { shown: string; offset: number } {
  if (text.length <= max) return { shown: text, offset: 0 };
  const offset = Math.max(0, Math.min(column - Math.floor(max / 2), text.length - max));
  return { shown: text.slice(offset, offset + max), offset };
}

type Style = (s: string) => string;
interface Palette {
  error: Style;
  warning: Style;
  hint: Style;
  bold: Style;
  dim: Style;
}

function palette(color: boolean): Palette {
  if (!color) {
    const id: Style = (s) => s;
    return { error: id, warning: id, hint: id, bold: id, dim: id };
  }
  return { error: (s) => pc.bold(pc.red(s)), warning: (s) => pc.bold(pc.yellow(s)), hint: pc.cyan, bold: pc.bold, dim: pc.dim };
}

export interface FileReport {
  readonly file: string;
  readonly diagnostics: readonly Diagnostic[];
  readonly source: SourceFile;
}

/** The JSON form, exactly: {"files":[{"file","diagnostics":[...]}],"errors":N,"warnings":N}. */
export function renderJson(reports: readonly FileReport[]): string {
  let errors = 0;
  let warnings = 0;
  const files = reports.map((report) => ({
    file: report.file,
    diagnostics: report.diagnostics.map((d) => {
      if (d.severity === "error") errors++;
      else warnings++;
      const loc = locate(d, report.source);
      return {
        code: loc.code,
        severity: loc.severity,
        message: loc.message,
        line: loc.line,
        column: loc.column,
        endLine: loc.endLine,
        endColumn: loc.endColumn,
        ...(loc.hint ? { hint: loc.hint } : {}),
      };
    }),
  }));
  return JSON.stringify({ files, errors, warnings });
}

/** "2 errors, 1 warning in 3 files" */
export function summary(errors: number, warnings: number, files: number): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return `${plural(errors, "error")}, ${plural(warnings, "warning")} in ${plural(files, "file")}`;
}

/** Prints diagnostics as `mex check` does: one code-framed block each, separated by blank lines. */
export function writeDiagnostics(stream: NodeJS.WritableStream & { isTTY?: boolean }, diagnostics: readonly Diagnostic[], source: SourceFile): void {
  const color = shouldColor(stream);
  for (const d of diagnostics) stream.write(`${renderText(d, source, { color })}\n\n`);
}
