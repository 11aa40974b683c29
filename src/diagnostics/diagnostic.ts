import type { Span } from "../ir/model.js";
import { CODES, type Code } from "./codes.js";

export type Severity = "error" | "warning";

/**
 * A finding about a spec. Positions are character offsets; line and column are computed
 * only when rendering (see `SourceFile.position`), so 0/1-based conversion lives in one place.
 */
export interface Diagnostic {
  readonly code: Code;
  readonly severity: Severity;
  readonly message: string;
  /** Path of the file as given, or a pseudo name such as `<--set>`. */
  readonly file: string;
  readonly span: Span;
  /** What to do about it; may be absent where nothing useful can be said. */
  readonly hint?: string;
  /** "because ..." explanations, outermost first (e.g. how a shape came to be). */
  readonly chain?: readonly string[];
}

/** Collects diagnostics for one file; every phase reports into one of these. */
export class DiagnosticBag {
  private readonly items: Diagnostic[] = [];

  constructor(readonly file: string) {}

  /**
   * Report `code` at `span`. The message template of the code is filled from `args`
   * (`{name}` placeholders); severity comes from the code table.
   */
  report(code: Code, span: Span, args: Record<string, string | number> = {}, extra: { hint?: string; chain?: string[] } = {}): Diagnostic {
    const entry = CODES[code];
    const diagnostic: Diagnostic = {
      code,
      severity: entry.severity,
      message: fillTemplate(entry.message, args),
      file: this.file,
      span,
      ...(extra.hint ?? entry.hint ? { hint: extra.hint ?? fillTemplate(entry.hint!, args) } : {}),
      ...(extra.chain && extra.chain.length > 0 ? { chain: extra.chain } : {}),
    };
    this.items.push(diagnostic);
    return diagnostic;
  }

  add(diagnostic: Diagnostic): void {
    this.items.push(diagnostic);
  }

  get all(): readonly Diagnostic[] {
    return this.items;
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === "error");
  }

  /** Diagnostics in source order (stable for equal positions). */
  sorted(): Diagnostic[] {
    return [...this.items].sort((a, b) => a.span.start - b.span.start || a.span.end - b.span.end);
  }
}

export function fillTemplate(template: string, args: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in args ? String(args[key]) : whole));
}

export function isError(d: Diagnostic): boolean {
  return d.severity === "error";
}
