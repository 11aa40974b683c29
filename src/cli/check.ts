/** `mex check FILE... [--format text|json]`: diagnostics for every file, all in one run. */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { checkSource, type CheckResult } from "../check/index.js";
import { renderJson, summary, type FileReport, writeDiagnostics } from "../diagnostics/render.js";
import { choice, EXIT, UsageError, writeLine, type Io } from "./io.js";
import { limitsFromOptions, LIMIT_OPTIONS } from "./limits.js";

export const CHECK_FORMATS = ["text", "json", "sarif", "github"] as const;
export type CheckFormat = (typeof CHECK_FORMATS)[number];

/** Renderers for formats beyond text and json register here (SARIF and GitHub live in their own modules). */
export const extraCheckFormats = new Map<string, (reports: readonly FileReport[]) => string>();

export function registerCheck(program: Command, io: Io, setCode: (code: number) => void): void {
  const command = program
    .command("check")
    .description("check spec files: syntax, names, teachers, options, shapes, costs (exit 0: no errors, 1: errors, 2: usage)")
    .argument("<files...>", ".mex spec files")
    .option("-f, --format <format>", `output format: ${CHECK_FORMATS.join(", ")}`, "text");
  for (const option of LIMIT_OPTIONS) command.option(option.flags, option.description, option.default);
  command.action(async (files: string[], options: Record<string, string>) => {
    const format = choice("--format", options.format!, CHECK_FORMATS);
    setCode(await runCheck(files, format, limitsFromOptions(options), io));
  });
}

export async function readSpec(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : code === "EACCES" ? "permission denied" : (error as Error).message;
    throw new UsageError(`cannot read '${file}': ${reason}`);
  }
}

export async function runCheck(files: readonly string[], format: CheckFormat, limits: ReturnType<typeof limitsFromOptions>, io: Io): Promise<number> {
  const reports: (FileReport & { result: CheckResult })[] = [];
  let unreadable = false;
  for (const file of files) {
    let text: string;
    try {
      text = await readSpec(file);
    } catch (error) {
      writeLine(io.stderr, `mex: ${(error as Error).message}`);
      unreadable = true;
      continue;
    }
    const result = checkSource(text, file, { limits });
    reports.push({ file, diagnostics: result.diagnostics, source: result.source, result });
  }
  const errors = reports.reduce((n, r) => n + r.diagnostics.filter((d) => d.severity === "error").length, 0);
  const warnings = reports.reduce((n, r) => n + r.diagnostics.filter((d) => d.severity === "warning").length, 0);
  if (format === "json") writeLine(io.stdout, renderJson(reports));
  else if (format === "text") {
    for (const report of reports) {
      writeDiagnostics(io.stdout, report.diagnostics, report.source);
    }
    writeLine(io.stdout, errors + warnings === 0 ? `ok: ${summary(0, 0, reports.length)}` : summary(errors, warnings, reports.length));
  } else {
    const render = extraCheckFormats.get(format);
    if (!render) throw new UsageError(`format '${format}' is not available in this build`);
    writeLine(io.stdout, render(reports));
  }
  if (unreadable) return EXIT.usage;
  return errors > 0 ? EXIT.failed : EXIT.ok;
}
