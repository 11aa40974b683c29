/** `mex lsp`: the language server over stdio (for editors; see editors/vscode). */
import type { Command } from "commander";
import { EXIT, type Io } from "./io.js";

export function registerLsp(program: Command, _io: Io, setCode: (code: number) => void): void {
  program
    .command("lsp")
    .description("run the language server over stdio (diagnostics, hover with shapes and MACs, completion, formatting)")
    .option("--stdio", "talk over standard input/output (the default and only transport; accepted because editors pass it)", true)
    .action(async () => {
      // Loaded on demand: the server's dependencies are not needed by the other commands.
      const { startServer } = await import("../lsp/server.js");
      await startServer();
      setCode(EXIT.ok);
    });
}
