/** Shared pieces of the ecosystem tests: running subcommands in-process and the built CLI. */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { Writable } from "node:stream";
import { Command, CommanderError } from "commander";
import type { Io } from "../../src/cli/io.js";
import { UsageError } from "../../src/cli/io.js";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const BIN = path.join(ROOT, "bin/mex.js");

class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

type Register = (program: Command, io: Io, setCode: (code: number) => void) => void;

/** Run one of our subcommands in-process, like main() does (exit 2 on usage errors). */
export async function runCommand(register: Register, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const io: Io = { stdout, stderr };
  let code = 0;
  const program = new Command("mex")
    .exitOverride()
    .configureOutput({ writeOut: (s) => stdout.write(s), writeErr: (s) => stderr.write(s) });
  register(program, io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) code = error.exitCode === 0 ? 0 : 2;
    else if (error instanceof UsageError) {
      stderr.write(`mex: ${error.message}\n`);
      code = 2;
    } else throw error;
  }
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** The built CLI (npm test builds first). */
export function mexBin(args: string[], options: { cwd?: string; input?: string } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, encoding: "utf8", input: options.input, timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
