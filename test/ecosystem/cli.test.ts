/** `mex fmt`, `mex init`, `mex graph` and the help/usage-error contract, run in-process (plus one run of the built CLI). */
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { registerFmt } from "../../src/cli/fmt.js";
import { registerInit } from "../../src/cli/init.js";
import { registerGraph } from "../../src/cli/graph.js";
import { registerLsp } from "../../src/cli/lsp.js";
import { checkSource } from "../../src/check/index.js";
import { formatSource } from "../../src/format/format.js";
import { renderTemplate, TEMPLATE_NAMES } from "../../src/templates/index.js";
import { toDot, toMermaid, teacherEdges, renderSvg } from "../../src/graph/graph.js";
import { mexBin, ROOT, runCommand } from "./helpers.js";

const tmp = () => mkdtempSync(path.join(tmpdir(), "mex-eco-"));
const FASHION = path.join(ROOT, "specs/fashion-3exit.mex");

describe("mex fmt", () => {
  it("prints the formatted text of one file", async () => {
    const dir = tmp();
    const file = path.join(dir, "a.mex");
    writeFileSync(file, "model a{input [4]\nclasses 2\nbackbone{stage s{dense(4) relu}}\nexit e after s{dense(classes)}}");
    const r = await runCommand(registerFmt, ["fmt", file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("model a {\n  input [4]\n  classes 2\n  backbone {\n    stage s { dense(4) relu }\n  }\n  exit e after s { dense(classes) }\n}\n");
  });

  it("--check exits 1 with a unified diff on unformatted files, 0 on formatted ones; --write fixes them", async () => {
    const dir = tmp();
    const file = path.join(dir, "b.mex");
    const messy = "model b {\n    input [4]\n  classes 2\n  backbone { stage s { dense(4) } }\n  exit e after s { dense(classes) }\n}\n";
    writeFileSync(file, messy);
    const check = await runCommand(registerFmt, ["fmt", "--check", file]);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain("-    input [4]");
    expect(check.stdout).toContain("+  input [4]");
    expect(check.stdout).toMatch(/^@@ -\d+,\d+ \+\d+,\d+ @@/m);
    expect(check.stderr).toContain("1 file not formatted");
    const write = await runCommand(registerFmt, ["fmt", "--write", file]);
    expect(write.code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(messy.replace("    input", "  input").replace("backbone { stage s { dense(4) } }", "backbone {\n    stage s { dense(4) }\n  }"));
    expect(readdirSync(dir)).toEqual(["b.mex"]);
    expect((await runCommand(registerFmt, ["fmt", "--check", file])).code).toBe(0);
  });

  it("every spec in specs/ is formatted (mex fmt --check specs/*.mex exits 0)", async () => {
    const specs = readdirSync(path.join(ROOT, "specs")).filter((f) => f.endsWith(".mex")).map((f) => path.join(ROOT, "specs", f));
    const r = await runCommand(registerFmt, ["fmt", "--check", ...specs]);
    expect(r.stdout).toBe("");
    expect(r.code).toBe(0);
  });

  it("refuses files with syntax errors: diagnostics on stderr, exit 1, file untouched", async () => {
    const dir = tmp();
    const file = path.join(dir, "bad.mex");
    writeFileSync(file, "model m { backbone { stage s1 { conv(8 } } }\n");
    const r = await runCommand(registerFmt, ["fmt", "--write", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[MEX1\d{3}\]/);
    expect(r.stderr).toContain("has syntax errors; not formatted");
    expect(readFileSync(file, "utf8")).toBe("model m { backbone { stage s1 { conv(8 } } }\n");
  });

  it("usage errors name the options", async () => {
    const both = await runCommand(registerFmt, ["fmt", "--check", "--write", FASHION]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("options '--check' and '--write' cannot be combined");
    const two = await runCommand(registerFmt, ["fmt", FASHION, FASHION]);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain("--write");
    const width = await runCommand(registerFmt, ["fmt", "--width", "abc", FASHION]);
    expect(width.stderr).toContain("option '--width' must be an integer from 20 to 1000; got 'abc'");
    const missing = await runCommand(registerFmt, ["fmt", path.join(ROOT, "nope.mex")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no such file");
  });
});

describe("mex init", () => {
  it.each(TEMPLATE_NAMES)("template %s checks with 0 errors and is formatted", (template) => {
    const text = renderTemplate(template, "starter");
    const result = checkSource(text, `${template}.mex`);
    expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(result.ir?.name).toBe("starter");
    const formatted = formatSource(text);
    expect(formatted.ok && formatted.text).toBe(text);
  });

  it("writes NAME.mex, refuses to overwrite without --force", async () => {
    const dir = tmp();
    const target = path.join(dir, "my-net");
    const first = await runCommand(registerInit, ["init", target, "--template", "resnet"]);
    expect(first.code).toBe(0);
    const text = readFileSync(`${target}.mex`, "utf8");
    expect(text).toContain("model my_net {");
    expect(text).toContain("residual");
    const again = await runCommand(registerInit, ["init", target]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already exists");
    const forced = await runCommand(registerInit, ["init", target, "--force"]);
    expect(forced.code).toBe(0);
    expect(readFileSync(`${target}.mex`, "utf8")).toContain("synthetic(per_class=300");
  });

  it("defaults to model.mex and names the accepted templates on a bad one", async () => {
    const dir = tmp();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect((await runCommand(registerInit, ["init"])).code).toBe(0);
      expect(existsSync(path.join(dir, "model.mex"))).toBe(true);
    } finally {
      process.chdir(cwd);
    }
    const bad = await runCommand(registerInit, ["init", path.join(dir, "x"), "--template", "vgg"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("option '--template' must be one of quickstart, fashion, resnet; got 'vgg'");
  });
});

describe("mex graph", () => {
  const ir = checkSource(readFileSync(FASHION, "utf8"), FASHION).ir!;

  it("teacher edges of fashion-3exit: teachers: last gives e3 -> e1 and e3 -> e2", () => {
    expect(teacherEdges(ir)).toEqual([
      { teacher: "e3", student: "e1" },
      { teacher: "e3", student: "e2" },
    ]);
  });

  it("DOT has every stage in a chain, every exit with cumulative MACs and fraction, dashed teacher arrows", () => {
    const dot = toDot(ir);
    for (const s of ["s1", "s2", "s3"]) expect(dot).toContain(`"stage:${s}" [shape=box`);
    expect(dot).toContain('input -> "stage:s1";');
    expect(dot).toContain('"stage:s1" -> "stage:s2";');
    expect(dot).toContain('"stage:s2" -> "stage:s3";');
    // e1: backbone s1 (28*28*32*9 = 225,792) + head (conv 7*7*32*288 = 451,584; dense 320) = 677,696 MACs,
    // 677,696 / 7,452,416 = 9.1%.
    expect(dot).toContain('label="e1\\n678K MACs (9.1%)"');
    expect(dot).toContain('label="e3\\n7.45M MACs (100.0%)"');
    for (const e of ["e1", "e2", "e3"]) expect(dot).toMatch(new RegExp(`"stage:s\\d" -> "exit:${e}"`));
    expect(dot).toContain('"exit:e3" -> "exit:e1" [style=dashed');
    expect(dot).toContain('"exit:e3" -> "exit:e2" [style=dashed');
  });

  it("Mermaid has the same stages, exits and teacher edges", () => {
    const mermaid = toMermaid(ir);
    expect(mermaid.startsWith("flowchart LR\n")).toBe(true);
    expect(mermaid).toContain("stage_s1 --> stage_s2");
    expect(mermaid).toContain("stage_s2 --> stage_s3");
    for (const [s, e] of [["s1", "e1"], ["s2", "e2"], ["s3", "e3"]]) expect(mermaid).toContain(`stage_${s} --> exit_${e}`);
    expect(mermaid).toContain('exit_e1(["e1<br/>678K MACs (9.1%)"])');
    expect(mermaid).toContain("exit_e3 -.->|T| exit_e1");
    expect(mermaid).toContain("exit_e3 -.->|T| exit_e2");
  });

  it("SVG through Graphviz", async () => {
    const svg = await renderSvg(toDot(ir));
    if (!svg.ok) {
      // Without Graphviz and @viz-js/viz the error must say how to get one.
      expect(svg.error).toContain("Graphviz");
      return;
    }
    expect(svg.svg).toContain("<svg");
    expect(svg.svg).toContain("e3");
  });

  it("writes -o FILE; spec errors exit 1; bad --format names the choices", async () => {
    const dir = tmp();
    const out = path.join(dir, "g.mmd");
    const r = await runCommand(registerGraph, ["graph", FASHION, "--format", "mermaid", "-o", out]);
    expect(r.code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(toMermaid(ir));
    const bad = path.join(dir, "bad.mex");
    writeFileSync(bad, "model m { input [4] classes 2 backbone { stage s { covn } } exit e after s { dense(classes) } }");
    expect((await runCommand(registerGraph, ["graph", bad])).code).toBe(1);
    const fmtErr = await runCommand(registerGraph, ["graph", FASHION, "--format", "png"]);
    expect(fmtErr.code).toBe(2);
    expect(fmtErr.stderr).toContain("option '--format' must be one of dot, svg, mermaid; got 'png'");
  });
});

describe("help", () => {
  it.each([
    ["fmt", registerFmt, ["--check", "(default: false)", "--write", "--width <columns>", '(default: "100")']],
    ["init", registerInit, ["--template <template>", '(default: "quickstart")', "--force", '(default: "model")']],
    ["graph", registerGraph, ["--format <format>", '(default: "dot")', "--output <file>", "(default: standard output)", "--max-params"]],
    ["lsp", registerLsp, ["--stdio", "(default: true)"]],
  ] as const)("mex %s --help lists every option with its default", async (name, register, expected) => {
    const r = await runCommand(register, [name, "--help"]);
    expect(r.code).toBe(0);
    const text = r.stdout.replace(/\s+/g, " ");
    for (const piece of expected) expect(text).toContain(piece);
  });

  it("the built CLI lists the subcommands and runs check --format github", () => {
    const help = mexBin(["--help"]);
    expect(help.code).toBe(0);
    for (const name of ["fmt", "init", "graph", "lsp"]) expect(help.stdout).toMatch(new RegExp(`^  ${name} `, "m"));
    const dir = tmp();
    writeFileSync(path.join(dir, "bad.mex"), "model m {\n  input [4]\n  classes 2\n  backbone { stage s { covn } }\n  exit e after s { dense(classes) }\n}\n");
    const gh = mexBin(["check", "--format", "github", "bad.mex"], { cwd: dir });
    expect(gh.code).toBe(1);
    expect(gh.stdout.trim()).toBe("::error file=bad.mex,line=4,col=24,endLine=4,endColumn=28,title=MEX2001::unknown layer 'covn'%0Ahint: did you mean 'conv'?");
  });
});
