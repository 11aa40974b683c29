/**
 * Writes the railroad syntax diagram of the .mex grammar to grammar/syntax-diagram.html.
 *
 *   npx tsc -p tsconfig.json && node dist/grammar/diagram.js [output.html]
 *
 * chevrotain's generated page loads its scripts and CSS from a CDN; they are inlined here so the
 * committed page works offline.
 */
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createSyntaxDiagramsCode } from "chevrotain";
import { getParser } from "./parser.js";

const LOCAL_BASE = "mex-local-chevrotain-diagrams/";

/** Directory of chevrotain's diagram assets (`diagrams/` in its package), if installed. */
function diagramsDir(): string | null {
  const entry = createRequire(import.meta.url).resolve("chevrotain");
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, "diagrams");
    if (existsSync(join(candidate, "diagrams.css"))) return candidate;
  }
  return null;
}

/** Replace the page's references to `LOCAL_BASE` assets by their contents. */
function inlineAssets(html: string, dir: string): string {
  const withScripts = html.replace(
    new RegExp(`<script src='${LOCAL_BASE}([^']+)'></script>`, "g"),
    (_whole, file: string) => `<script>\n${readFileSync(join(dir, file), "utf8").replace(/<\/script/gi, "<\\/script")}\n</script>`,
  );
  return withScripts.replace(
    `<link rel='stylesheet' href='${LOCAL_BASE}diagrams.css'>`,
    `<style>\n${readFileSync(join(dir, "diagrams.css"), "utf8")}\n</style>`,
  );
}

export function syntaxDiagramHtml(): string {
  const grammar = getParser().getSerializedGastProductions();
  const dir = diagramsDir();
  if (dir === null) return createSyntaxDiagramsCode(grammar);
  const html = createSyntaxDiagramsCode(grammar, { resourceBase: LOCAL_BASE, css: `${LOCAL_BASE}diagrams.css` });
  return inlineAssets(html, dir).replace("<!DOCTYPE html>", "<!DOCTYPE html>\n<title>mex grammar</title>");
}

function main(): void {
  // dist/grammar/diagram.js -> <repo>/grammar/syntax-diagram.html
  const here = dirname(fileURLToPath(import.meta.url));
  const out = process.argv[2] ? resolve(process.argv[2]) : resolve(here, "..", "..", "grammar", "syntax-diagram.html");
  writeFileSync(out, syntaxDiagramHtml());
  console.log(`wrote ${out}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
