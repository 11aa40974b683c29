/** `mex graph SPEC [--format dot|svg|mermaid] [-o FILE]`: backbone, exits and teacher arrows as a diagram. */
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { checkSource } from "../check/index.js";
import { writeDiagnostics } from "../diagnostics/render.js";
import { renderSvg, toDot, toMermaid } from "../graph/graph.js";
import { readSpec } from "./check.js";
import { choice, EXIT, UsageError, writeLine, type Io } from "./io.js";
import { limitsFromOptions, LIMIT_OPTIONS } from "./limits.js";

export const GRAPH_FORMATS = ["dot", "svg", "mermaid"] as const;

export function registerGraph(program: Command, io: Io, setCode: (code: number) => void): void {
  const command = program
    .command("graph")
    .description("draw the backbone, the exits (cumulative MACs) and the teacher arrows T(m) (exit 0: drawn, 1: spec has errors, 2: usage or no SVG renderer)")
    .argument("<file>", ".mex spec file")
    .option("-f, --format <format>", `output format: ${GRAPH_FORMATS.join(", ")} (svg needs Graphviz 'dot' or @viz-js/viz)`, "dot")
    .option("-o, --output <file>", "write to this file (default: standard output)");
  for (const option of LIMIT_OPTIONS) command.option(option.flags, option.description, option.default);
  command.action(async (file: string, options: Record<string, string | undefined>) => {
    const format = choice("--format", options.format!, GRAPH_FORMATS);
    const result = checkSource(await readSpec(file), file, { limits: limitsFromOptions(options) });
    if (!result.ir) {
      writeDiagnostics(io.stderr, result.diagnostics, result.source);
      setCode(EXIT.failed);
      return;
    }
    let text: string;
    if (format === "mermaid") text = toMermaid(result.ir);
    else if (format === "dot") text = toDot(result.ir);
    else {
      const svg = await renderSvg(toDot(result.ir));
      if (!svg.ok) throw new UsageError(`cannot render SVG: ${svg.error}`);
      text = svg.svg;
    }
    if (options.output) {
      try {
        await writeFile(options.output, text, "utf8");
      } catch (error) {
        throw new UsageError(`cannot write '${options.output}': ${(error as Error).message}`);
      }
      writeLine(io.stderr, `wrote ${options.output}`);
    } else io.stdout.write(text);
    setCode(EXIT.ok);
  });
}
