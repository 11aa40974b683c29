/**
 * Prints the README tables generated from the source of truth: the diagnostics table (codes.ts) and
 * the parameter tables of layers (src/ops) and of train/distill options (src/check/train.ts, distill.ts).
 * Run: npx tsx bench/gen-codes-table.ts [codes|layers|options]   (all three when no argument)
 * test/check/codes.test.ts asserts every code appears in README.md's Diagnostics section.
 */
import { CODES, type Code } from "../src/diagnostics/codes.js";
import { LAYERS } from "../src/ops/index.js";
import type { ParamSpec } from "../src/check/args.js";
import type { Variant, OptionSpec } from "../src/check/sections.js";
import { AUGMENT_VARIANTS, DATA_VARIANTS, OPTIMIZER_VARIANTS, SCHEDULE_VARIANTS, TRAIN_OPTIONS } from "../src/check/train.js";
import { DISTILL_OPTIONS, TEMPERATURE_VARIANTS } from "../src/check/distill.js";

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function codesTable(): string {
  const rows = (Object.keys(CODES) as Code[]).map((code) => {
    const entry = CODES[code];
    return `| \`${code}\` | ${entry.severity} | ${cell(entry.message)} | ${cell(entry.help)} |`;
  });
  return ["| code | severity | message | what it means |", "|---|---|---|---|", ...rows].join("\n");
}

function params(list: readonly ParamSpec[]): string {
  if (list.length === 0) return "none";
  return list
    .map((p) => `\`${p.name}\`${p.positional ? " (positional)" : ""}${p.required ? " **required**" : p.default !== undefined ? ` = \`${p.default}\`` : ""}: ${p.doc}`)
    .join("; ");
}

export function layersTable(): string {
  const rows = [...LAYERS.values()].map((def) => `| \`${def.name}\` | ${cell(def.doc)} | ${cell(params(def.params))} |`);
  return ["| layer | what it does | parameters (name = default) |", "|---|---|---|", ...rows].join("\n");
}

function variants(title: string, list: readonly Variant[]): string {
  return [`| ${title} | what it does | parameters (name = default) |`, "|---|---|---|", ...list.map((v) => `| \`${v.name}\` | ${cell(v.doc)} | ${cell(params(v.params))} |`)].join("\n");
}

function options(list: readonly OptionSpec[]): string {
  return ["| option | value | default |", "|---|---|---|", ...list.map((o) => `| \`${o.name}\` | ${cell(o.doc)} | \`${cell(o.default)}\` |`)].join("\n");
}

export function optionsTables(): string {
  return [
    "distill options:\n", options(DISTILL_OPTIONS), "\ntemperature forms:\n", variants("temperature", TEMPERATURE_VARIANTS),
    "\ntrain options:\n", options(TRAIN_OPTIONS), "\ndata:\n", variants("data", DATA_VARIANTS), "\naugment:\n", variants("augment", AUGMENT_VARIANTS),
    "\noptimizer:\n", variants("optimizer", OPTIMIZER_VARIANTS), "\nschedule:\n", variants("schedule", SCHEDULE_VARIANTS),
  ].join("\n");
}

const which = process.argv[2];
if (!which || which === "codes") console.log(codesTable(), "\n");
if (!which || which === "layers") console.log(layersTable(), "\n");
if (!which || which === "options") console.log(optionsTables());
