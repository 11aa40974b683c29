/**
 * The `mex` command line. Each subcommand lives in its own module and registers itself here.
 * Exit codes: 0 success, 1 the input has errors (or a run failed), 2 usage errors or unreadable files.
 */
import { Command, CommanderError } from "commander";
import { registerCheck } from "./check.js";
import { registerInspect } from "./inspect.js";
import { registerTrain } from "./train.js";
import { registerExport } from "./export.js";
import { registerEval } from "./eval.js";
import { registerFmt } from "./fmt.js";
import { registerInit } from "./init.js";
import { registerGraph } from "./graph.js";
import { registerLsp } from "./lsp.js";
import { EXIT, processIo, UsageError, writeLine, type Io } from "./io.js";
import { version } from "./version.js";

export { version };

type Register = (program: Command, io: Io, setCode: (code: number) => void) => void;

/** Subcommands in help order. Later parts add theirs here. */
const SUBCOMMANDS: Register[] = [registerCheck, registerInspect, registerTrain, registerExport, registerEval, registerFmt, registerInit, registerGraph, registerLsp];

/** Extra subcommands registered by optional modules (kept separate so `check` starts fast). */
export const lazySubcommands: Register[] = [];

export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command("mex")
    .description("multi-exit networks from a declarative spec: check, train with distillation, evaluate early exit, export ONNX")
    .version(version(), "-v, --version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  const setCode = (c: number) => {
    code = c;
  };
  for (const register of [...SUBCOMMANDS, ...lazySubcommands]) register(program, io, setCode);
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof UsageError) {
      writeLine(io.stderr, `mex: ${error.message}`);
      if (error.hint) writeLine(io.stderr, `hint: ${error.hint}`);
      return EXIT.usage;
    }
    throw error;
  }
}
