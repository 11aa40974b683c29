/**
 * `mex fmt FILE... [--check | --write]`: the canonical formatter (src/format/).
 * Without flags, prints the formatted text of one file (or `-`, standard input) to stdout.
 * Also registers the `sarif` and `github` formats of `mex check` (this module is imported by main.ts).
 */
import { readFile, rename, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Command } from "commander";
import { createTwoFilesPatch } from "diff";
import { formatSource, DEFAULT_WIDTH } from "../format/format.js";
import { writeDiagnostics } from "../diagnostics/render.js";
import { version } from "./version.js";
import { SourceFile } from "../diagnostics/source.js";
import { renderSarif } from "../diagnostics/sarif.js";
import { renderGithub } from "../diagnostics/github.js";
import { extraCheckFormats, readSpec } from "./check.js";
import { EXIT, UsageError, writeLine, type Io } from "./io.js";


extraCheckFormats.set("sarif", (reports) => renderSarif(reports, { version: version() }));
extraCheckFormats.set("github", (reports) => renderGithub(reports));

export interface FmtOptions {
  readonly check: boolean;
  readonly write: boolean;
  readonly width: number;
}

export function registerFmt(program: Command, io: Io, setCode: (code: number) => void): void {
  program
    .command("fmt")
    .description("format spec files canonically (comments and LF/CRLF line endings kept); prints the result for one file unless --check or --write (exit 0: formatted, 1: unformatted or syntax errors, 2: usage)")
    .argument("<files...>", ".mex spec files ('-' reads standard input)")
    .option("--check", "do not write; exit 1 and print a unified diff for each file that is not formatted", false)
    .option("--write", "rewrite files in place (atomically)", false)
    .option("--width <columns>", "line width up to which a block stays on one line", String(DEFAULT_WIDTH))
    .action(async (files: string[], options: { check: boolean; write: boolean; width: string }) => {
      const width = Number(options.width);
      if (!Number.isInteger(width) || width < 20 || width > 1000) throw new UsageError(`option '--width' must be an integer from 20 to 1000; got '${options.width}'`);
      if (options.check && options.write) throw new UsageError("options '--check' and '--write' cannot be combined", "use --check in CI and --write locally");
      if (!options.check && !options.write && files.length > 1) {
        throw new UsageError(`without --check or --write, fmt prints one file; got ${files.length} files`, "add --write to format them in place, or --check to verify them");
      }
      if (options.write && files.includes("-")) throw new UsageError("option '--write' cannot rewrite standard input ('-')");
      setCode(await runFmt(files, { check: options.check, write: options.write, width }, io));
    });
}

async function readInput(file: string): Promise<string> {
  if (file !== "-") return readSpec(file);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function runFmt(files: readonly string[], options: FmtOptions, io: Io): Promise<number> {
  let code: number = EXIT.ok;
  const raise = (c: number) => {
    code = Math.max(code, c);
  };
  const unformatted: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readInput(file);
    } catch (error) {
      writeLine(io.stderr, `mex: ${(error as Error).message}`);
      raise(EXIT.usage);
      continue;
    }
    const label = file === "-" ? "<stdin>" : file;
    const result = formatSource(text, label, { width: options.width });
    if (!result.ok) {
      const source = new SourceFile(label, text);
      writeDiagnostics(io.stderr, result.diagnostics.filter((x) => x.severity === "error"), source);
      writeLine(io.stderr, `mex: ${result.message}`);
      raise(EXIT.failed);
      continue;
    }
    if (options.check) {
      if (result.changed) {
        unformatted.push(label);
        io.stdout.write(createTwoFilesPatch(label, label, text, result.text, "", "formatted"));
        raise(EXIT.failed);
      }
    } else if (options.write) {
      if (result.changed) {
        await writeAtomically(file, result.text);
        writeLine(io.stderr, `formatted ${label}`);
      }
    } else io.stdout.write(result.text);
  }
  if (options.check) {
    writeLine(io.stderr, unformatted.length === 0 ? `ok: ${files.length} file${files.length === 1 ? "" : "s"} formatted` : `${unformatted.length} file${unformatted.length === 1 ? "" : "s"} not formatted (run mex fmt --write): ${unformatted.join(", ")}`);
  }
  return code;
}

/** Write to a temporary file beside the target, then rename over it: readers never see half a file. */
export async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(temp, text, "utf8");
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw new UsageError(`cannot write '${file}': ${(error as Error).message}`);
  }
}
