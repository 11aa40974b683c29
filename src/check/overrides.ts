/**
 * `--set section.option=value` overrides, applied as text patches to the spec so that the result is
 * checked exactly like a spec (same diagnostics, same positions), and the effective spec can be stored
 * in the run directory as plain text.
 */
import { parse } from "../syntax/parse.js";
import { SECTIONS } from "./model.js";

export interface Override {
  readonly section: string;
  readonly option: string;
  /** Value in the language's syntax, e.g. `1`, `adam(lr=0.01)`, `[flip]`. */
  readonly value: string;
  readonly raw: string;
}

export class OverrideError extends Error {}

/** `train.epochs=1` -> { section: "train", option: "epochs", value: "1" }. */
export function parseOverride(raw: string): Override {
  const match = /^\s*([A-Za-z_]\w*)\.([A-Za-z_]\w*)\s*=(.*)$/s.exec(raw);
  if (!match) throw new OverrideError(`--set expects section.option=value (e.g. train.epochs=1), got '${raw}'`);
  const [, section, option, value] = match as unknown as [string, string, string, string];
  if (!(SECTIONS as readonly string[]).includes(section)) {
    throw new OverrideError(`--set '${raw}': unknown section '${section}' (sections: ${SECTIONS.join(", ")})`);
  }
  if (value.trim() === "") throw new OverrideError(`--set '${raw}': missing value after '='`);
  if (/[{}\n\r]/.test(value) && !/^\s*\{[^{}]*\}\s*$/.test(value)) throw new OverrideError(`--set '${raw}': the value must be a single expression`);
  return { section, option, value: value.trim(), raw };
}

/**
 * The spec text with each override applied in order: an existing `option:` entry gets its value
 * replaced, a missing one is added to its section, a missing section is added to the model.
 * Text that does not parse is returned unchanged (the checker reports it).
 */
export function applyOverrides(text: string, overrides: readonly Override[]): string {
  let current = text;
  for (const override of overrides) current = applyOne(current, override);
  return current;
}

function applyOne(text: string, override: Override): string {
  const model = parse(text, "<spec>").ast.models[0];
  if (!model) return text;
  const section = model.items.find((item) => item.kind === "section" && item.name.name === override.section);
  if (section && section.kind === "section") {
    const entry = section.entries.find((e) => e.key.name === override.option);
    if (entry) return splice(text, entry.value.span.start, entry.value.span.end, override.value);
    const close = section.span.end - 1;
    return splice(text, close, close, `  ${override.option}: ${override.value} // --set\n  `);
  }
  const close = model.span.end - 1;
  return splice(text, close, close, `\n  ${override.section} { ${override.option}: ${override.value} } // --set\n`);
}

function splice(text: string, start: number, end: number, insert: string): string {
  return text.slice(0, start) + insert + text.slice(end);
}
