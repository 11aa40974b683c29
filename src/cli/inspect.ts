/** `mex inspect FILE [--format text|json]`: per-layer and per-exit shapes, parameters and MACs. */
import Table from "cli-table3";
import type { Command } from "commander";
import { checkSource } from "../check/index.js";
import { formatCount } from "../check/model.js";
import type { LayerNode, ModelIR } from "../ir/model.js";
import { formatShape } from "../ops/types.js";
import { writeDiagnostics } from "../diagnostics/render.js";
import { choice, EXIT, writeLine, type Io } from "./io.js";
import { readSpec } from "./check.js";
import { limitsFromOptions, LIMIT_OPTIONS } from "./limits.js";

export interface LayerRow {
  name: string;
  kind: string;
  /** Stage or exit the layer belongs to. */
  owner: string;
  depth: number;
  inShape: number[];
  outShape: number[];
  params: number;
  macs: number;
}

export interface ExitRow {
  name: string;
  after: string;
  params: number;
  macs: number;
  cumulativeMacs: number;
  cumulativeParams: number;
  fraction: number;
}

export function layerRows(ir: ModelIR): LayerRow[] {
  const rows: LayerRow[] = [];
  const visit = (nodes: readonly LayerNode[], owner: string, depth: number) => {
    for (const node of nodes) {
      rows.push({ name: node.name, kind: node.kind === "op" ? node.op : node.kind, owner, depth, inShape: [...node.inShape], outShape: [...node.outShape], params: node.params, macs: node.macs });
      if (node.kind === "residual") {
        visit(node.body, owner, depth + 1);
        visit(node.shortcut, owner, depth + 1);
      } else if (node.kind === "concat") visit(node.body, owner, depth + 1);
    }
  };
  for (const stage of ir.stages) visit(stage.nodes, stage.name, 0);
  for (const exit of ir.exits) visit(exit.head, exit.name, 0);
  return rows;
}

export function exitRows(ir: ModelIR): ExitRow[] {
  return ir.exits.map((e) => ({ name: e.name, after: e.after, params: e.params, macs: e.macs, cumulativeMacs: e.cumulativeMacs, cumulativeParams: e.cumulativeParams, fraction: e.fraction }));
}

export function inspectJson(ir: ModelIR): object {
  return {
    model: ir.name,
    input: ir.input,
    classes: ir.classes,
    params: ir.params,
    buffers: ir.buffers,
    macs: ir.macs,
    activations: ir.activations,
    sourceHash: ir.sourceHash,
    stages: ir.stages.map((s) => ({ name: s.name, outShape: s.outShape, params: s.params, macs: s.macs, cumulativeMacs: s.cumulativeMacs })),
    exits: exitRows(ir),
    layers: layerRows(ir),
  };
}

/** No rule between body rows: long layer lists stay readable. */
const COMPACT = { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" };

export function inspectText(ir: ModelIR): string {
  const layers = new Table({ head: ["layer", "kind", "output", "params", "MACs"], colAligns: ["left", "left", "left", "right", "right"], style: { head: [], border: [] }, chars: COMPACT });
  for (const row of layerRows(ir)) {
    layers.push([`${"  ".repeat(row.depth)}${row.name}`, row.kind, formatShape(row.outShape), row.params.toLocaleString("en-US"), row.macs.toLocaleString("en-US")]);
  }
  const exits = new Table({ head: ["exit", "after", "head params", "head MACs", "cumulative MACs", "of last"], colAligns: ["left", "left", "right", "right", "right", "right"], style: { head: [], border: [] }, chars: COMPACT });
  for (const row of exitRows(ir)) {
    exits.push([row.name, row.after, row.params.toLocaleString("en-US"), row.macs.toLocaleString("en-US"), `${row.cumulativeMacs.toLocaleString("en-US")} (${formatCount(row.cumulativeMacs)})`, `${(row.fraction * 100).toFixed(1)}%`]);
  }
  const header = `model ${ir.name}: input ${formatShape(ir.input)}, ${ir.classes} classes, ${ir.params.toLocaleString("en-US")} parameters, ${formatCount(ir.macs)} MACs per example (all exits)`;
  return [header, "", layers.toString(), "", exits.toString()].join("\n");
}

export function registerInspect(program: Command, io: Io, setCode: (code: number) => void): void {
  const command = program
    .command("inspect")
    .description("print every layer's output shape, parameters and MACs, and every exit's cumulative cost")
    .argument("<file>", ".mex spec file")
    .option("-f, --format <format>", "output format: text, json", "text");
  for (const option of LIMIT_OPTIONS) command.option(option.flags, option.description, option.default);
  command.action(async (file: string, options: Record<string, string>) => {
    const format = choice("--format", options.format!, ["text", "json"] as const);
    const result = checkSource(await readSpec(file), file, { limits: limitsFromOptions(options) });
    if (!result.ir) {
      writeDiagnostics(io.stderr, result.diagnostics, result.source);
      setCode(EXIT.failed);
      return;
    }
    writeLine(io.stdout, format === "json" ? JSON.stringify(inspectJson(result.ir), null, 2) : inspectText(result.ir));
    setCode(EXIT.ok);
  });
}
