/** `mex init [NAME] [--template quickstart|fashion|resnet] [--force]`: write a commented starter spec. */
import { access, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import type { Command } from "commander";
import { renderTemplate, TEMPLATE_NAMES } from "../templates/index.js";
import { choice, EXIT, UsageError, writeLine, type Io } from "./io.js";

/** `model` -> `model.mex`; a name already ending in .mex is kept. */
export function specPath(name: string): string {
  return name.endsWith(".mex") ? name : `${name}.mex`;
}

export function registerInit(program: Command, io: Io, setCode: (code: number) => void): void {
  program
    .command("init")
    .description("write a commented starter spec NAME.mex (exit 0: written, 2: exists without --force or usage error)")
    .argument("[name]", "file name (without .mex) and model name", "model")
    .option("-t, --template <template>", `starter: ${TEMPLATE_NAMES.join(", ")}`, "quickstart")
    .option("--force", "overwrite an existing file", false)
    .action(async (name: string, options: { template: string; force: boolean }) => {
      const template = choice("--template", options.template, TEMPLATE_NAMES);
      const path = specPath(name);
      if (!options.force && (await exists(path))) throw new UsageError(`'${path}' already exists`, "pass --force to overwrite it, or choose another name");
      const text = renderTemplate(template, basename(path, ".mex"));
      try {
        await writeFile(path, text, "utf8");
      } catch (error) {
        throw new UsageError(`cannot write '${path}': ${(error as Error).message}`);
      }
      writeLine(io.stdout, `wrote ${path} (template ${template}); next: mex check ${path}`);
      setCode(EXIT.ok);
    });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
