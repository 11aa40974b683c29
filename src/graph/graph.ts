/**
 * The model as a diagram: backbone stages in a chain, each exit hanging off its stage (labelled with
 * its cumulative MACs and their fraction of the last exit's), and the teacher arrows T(m), dashed,
 * from each teacher exit to its student. Emitted as Graphviz DOT or as a Mermaid flowchart; SVG is
 * DOT rendered by Graphviz (`dot` on PATH, or the optional @viz-js/viz WebAssembly build).
 */
import { spawn } from "node:child_process";
import type { ModelIR } from "../ir/model.js";
import { formatCount } from "../check/model.js";
import { formatShape } from "../ops/types.js";

/** One arrow T(m): `teacher` teaches `student` (exit names). */
export interface TeacherEdge {
  readonly teacher: string;
  readonly student: string;
}

export function teacherEdges(ir: ModelIR): TeacherEdge[] {
  if (!ir.distill) return [];
  const edges: TeacherEdge[] = [];
  ir.distill.teachers.forEach((teachers, m) => {
    for (const t of teachers) edges.push({ teacher: ir.exits[t]!.name, student: ir.exits[m]!.name });
  });
  return edges;
}

/** "677.7K MACs (9.1%)": cumulative cost of answering at the exit. */
export function exitCost(ir: ModelIR, exitIndex: number): string {
  const exit = ir.exits[exitIndex]!;
  return `${formatCount(exit.cumulativeMacs)} MACs (${(exit.fraction * 100).toFixed(1)}%)`;
}

function dotString(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** A multi-line DOT label: each line escaped, joined with DOT's `\n` line break. */
function dotLabel(...lines: string[]): string {
  return `"${lines.map((l) => l.replace(/\\/g, "\\\\").replace(/"/g, '\\"')).join("\\n")}"`;
}

export function toDot(ir: ModelIR): string {
  const out: string[] = [];
  const stageId = (name: string) => dotString(`stage:${name}`);
  const exitId = (name: string) => dotString(`exit:${name}`);
  out.push(`digraph ${dotString(ir.name)} {`);
  out.push("  rankdir=LR;");
  out.push('  node [fontname="Helvetica", fontsize=11];');
  out.push('  edge [fontname="Helvetica", fontsize=10];');
  out.push(`  input [shape=oval, label=${dotLabel("input", formatShape(ir.input))}];`);
  for (const stage of ir.stages) {
    const label = dotLabel(stage.name, formatShape(stage.outShape), `${formatCount(stage.macs)} MACs`);
    out.push(`  ${stageId(stage.name)} [shape=box, label=${label}];`);
  }
  let previous = "input";
  for (const stage of ir.stages) {
    out.push(`  ${previous} -> ${stageId(stage.name)};`);
    previous = stageId(stage.name);
  }
  ir.exits.forEach((exit, i) => {
    const label = dotLabel(exit.name, exitCost(ir, i));
    out.push(`  ${exitId(exit.name)} [shape=box, style="rounded,filled", fillcolor="#eef4ff", label=${label}];`);
    out.push(`  ${stageId(exit.after)} -> ${exitId(exit.name)} [arrowhead=vee];`);
    // An exit sits in its stage's column, so the backbone reads left to right with exits below it.
    out.push(`  { rank=same; ${stageId(exit.after)}; ${exitId(exit.name)}; }`);
  });
  for (const edge of teacherEdges(ir)) {
    out.push(`  ${exitId(edge.teacher)} -> ${exitId(edge.student)} [style=dashed, color="#c05000", fontcolor="#c05000", label="T", constraint=false];`);
  }
  out.push("}");
  return `${out.join("\n")}\n`;
}

function mermaidLabel(s: string): string {
  return `"${s.replace(/"/g, "#quot;")}"`;
}

export function toMermaid(ir: ModelIR): string {
  // Prefixed ids: bare names like `end` are Mermaid keywords.
  const stageId = (name: string) => `stage_${name}`;
  const exitId = (name: string) => `exit_${name}`;
  const out: string[] = ["flowchart LR"];
  out.push(`  input([${mermaidLabel(`input ${formatShape(ir.input)}`)}])`);
  for (const stage of ir.stages) out.push(`  ${stageId(stage.name)}[${mermaidLabel(`${stage.name}<br/>${formatShape(stage.outShape)}<br/>${formatCount(stage.macs)} MACs`)}]`);
  let previous = "input";
  for (const stage of ir.stages) {
    out.push(`  ${previous} --> ${stageId(stage.name)}`);
    previous = stageId(stage.name);
  }
  ir.exits.forEach((exit, i) => {
    out.push(`  ${exitId(exit.name)}([${mermaidLabel(`${exit.name}<br/>${exitCost(ir, i)}`)}])`);
    out.push(`  ${stageId(exit.after)} --> ${exitId(exit.name)}`);
  });
  for (const edge of teacherEdges(ir)) out.push(`  ${exitId(edge.teacher)} -.->|T| ${exitId(edge.student)}`);
  return `${out.join("\n")}\n`;
}

/** Result of rendering SVG: the SVG text, or why it could not be produced. */
export type SvgResult = { readonly ok: true; readonly svg: string; readonly renderer: string } | { readonly ok: false; readonly error: string };

/** DOT -> SVG with Graphviz's `dot` from PATH; else @viz-js/viz if installed; else a clear error. */
export async function renderSvg(dot: string): Promise<SvgResult> {
  const native = await runDot(dot);
  if (native.ok) return native;
  try {
    const moduleName = "@viz-js/viz";
    const viz = (await import(moduleName)) as { instance(): Promise<{ renderString(src: string, opts: { format: string }): string }> };
    const instance = await viz.instance();
    return { ok: true, svg: instance.renderString(dot, { format: "svg" }), renderer: "@viz-js/viz" };
  } catch {
    return { ok: false, error: `${native.error}; and the optional package @viz-js/viz is not installed. Install Graphviz (Debian: apt-get install graphviz) or run npm install @viz-js/viz, or use --format dot or mermaid` };
  }
}

function runDot(dot: string): Promise<SvgResult> {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn("dot", ["-Tsvg"], { stdio: ["pipe", "pipe", "pipe"] });
    } catch (error) {
      resolve({ ok: false, error: `cannot run Graphviz 'dot': ${(error as Error).message}` });
      return;
    }
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => stdout.push(b));
    child.stderr.on("data", (b: Buffer) => stderr.push(b));
    child.on("error", (error: NodeJS.ErrnoException) => {
      resolve({ ok: false, error: error.code === "ENOENT" ? "Graphviz 'dot' is not on PATH" : `cannot run Graphviz 'dot': ${error.message}` });
    });
    child.on("close", (code) => {
      if (code === 0) resolve({ ok: true, svg: Buffer.concat(stdout).toString("utf8"), renderer: "dot" });
      else resolve({ ok: false, error: `Graphviz 'dot' failed (exit ${code}): ${Buffer.concat(stderr).toString("utf8").trim()}` });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(dot);
  });
}
