/**
 * GitHub Actions workflow commands: `::error file=F,line=L,col=C,endLine=..,endColumn=..,title=T::message`.
 * The runner turns each into an inline annotation on the pull request. Escaping follows the
 * runner's rules (actions/toolkit, command.ts): in the message % \r \n are escaped; in property
 * values also : and , (which separate properties).
 */
import { relative, resolve, sep } from "node:path";
import { locate, type FileReport } from "./render.js";

export function escapeData(value: string): string {
  return value.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

export function escapeProperty(value: string): string {
  return escapeData(value).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

/** Paths relative to the working directory (the checkout root in CI), with forward slashes. */
function annotationPath(file: string, cwd: string): string {
  const rel = relative(cwd, resolve(cwd, file)) || file;
  return rel.split(sep).join("/");
}

export function renderGithub(reports: readonly FileReport[], cwd = process.cwd()): string {
  const lines: string[] = [];
  for (const report of reports) {
    for (const d of report.diagnostics) {
      const loc = locate(d, report.source);
      const props = [
        ["file", annotationPath(report.file, cwd)],
        ["line", String(loc.line)],
        ["col", String(loc.column)],
        ["endLine", String(loc.endLine)],
        ["endColumn", String(loc.endColumn)],
        ["title", d.code],
      ]
        .map(([k, v]) => `${k}=${escapeProperty(v!)}`)
        .join(",");
      const message = d.hint ? `${d.message}\nhint: ${d.hint}` : d.message;
      lines.push(`::${d.severity === "error" ? "error" : "warning"} ${props}::${escapeData(message)}`);
    }
  }
  return lines.join("\n");
}
