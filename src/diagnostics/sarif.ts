/**
 * SARIF 2.1.0 output (OASIS Static Analysis Results Interchange Format), the format GitHub code
 * scanning and most CI dashboards ingest. One run; the tool's rules are every diagnostic code, with
 * the code's one-line `help` as description, so viewers can explain a finding without mex installed.
 */
import { relative, resolve, sep } from "node:path";
import { ALL_CODES, CODES } from "./codes.js";
import { locate, type FileReport } from "./render.js";

export const SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json";

/** SARIF `level` for a severity (spec section 3.27.10). */
function level(severity: "error" | "warning"): "error" | "warning" {
  return severity;
}

/** A path as a relative URI reference with forward slashes (spec 3.4.3), percent-encoding what URIs forbid. */
export function artifactUri(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, resolve(cwd, file)) || file;
  const portable = rel.split(sep).join("/");
  return portable.split("/").map((segment) => encodeURIComponent(segment)).join("/");
}

export interface SarifOptions {
  readonly version: string;
  readonly cwd?: string;
}

export function sarifLog(reports: readonly FileReport[], options: SarifOptions): object {
  const ruleIndex = new Map<string, number>(ALL_CODES.map((code, i) => [code, i]));
  const rules = ALL_CODES.map((code) => ({
    id: code,
    name: code,
    shortDescription: { text: CODES[code].help },
    fullDescription: { text: `${CODES[code].help} Message: ${CODES[code].message}` },
    defaultConfiguration: { level: level(CODES[code].severity) },
  }));
  const results = reports.flatMap((report) =>
    report.diagnostics.map((d) => {
      const loc = locate(d, report.source);
      const text = d.hint ? `${d.message}\nhint: ${d.hint}` : d.message;
      return {
        ruleId: d.code,
        ruleIndex: ruleIndex.get(d.code)!,
        level: level(d.severity),
        message: { text },
        locations: [
          {
            physicalLocation: {
              artifactLocation: { uri: artifactUri(report.file, options.cwd), uriBaseId: "%SRCROOT%" },
              region: { startLine: loc.line, startColumn: loc.column, endLine: loc.endLine, endColumn: loc.endColumn },
            },
          },
        ],
      };
    }),
  );
  return {
    $schema: SARIF_SCHEMA_URI,
    version: "2.1.0",
    runs: [
      {
        tool: { driver: { name: "mex", version: options.version, informationUri: "https://www.npmjs.com/package/mex", rules } },
        // Columns count UTF-16 code units, as SourceFile.position does.
        columnKind: "utf16CodeUnits",
        results,
      },
    ],
  };
}

export function renderSarif(reports: readonly FileReport[], options: SarifOptions): string {
  return JSON.stringify(sarifLog(reports, options), null, 2);
}
