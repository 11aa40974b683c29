/**
 * The invariants every input must satisfy, whatever it is: `checkSource` does not throw, a failed check
 * carries at least one error, every span lies inside the text, every diagnostic renders, no internal
 * error was turned into a diagnostic (that would be a caught crash), and the check ends within a bound.
 */
import { checkSource } from "../../src/check/index.js";
import { renderText } from "../../src/diagnostics/render.js";

export interface Outcome {
  /** Empty when all invariants hold; otherwise what broke. */
  readonly problems: string[];
  readonly ms: number;
  readonly errors: number;
}

/** Messages that mean an exception was caught inside the front end rather than handled. */
const INTERNAL = /internal (parser|checker) error/;

export function checkInvariants(text: string, boundMs = 2000): Outcome {
  const problems: string[] = [];
  const started = performance.now();
  let result: ReturnType<typeof checkSource>;
  try {
    result = checkSource(text, "fuzz.mex");
  } catch (error) {
    return { problems: [`checkSource threw: ${(error as Error).stack ?? String(error)}`], ms: performance.now() - started, errors: 0 };
  }
  const ms = performance.now() - started;
  if (ms > boundMs) problems.push(`check took ${ms.toFixed(0)} ms (bound ${boundMs} ms)`);
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (result.ir === null && errors.length === 0) problems.push("no IR but no error diagnostic");
  if (result.ir !== null && errors.length > 0) problems.push("an IR despite errors");
  for (const d of result.diagnostics) {
    const { start, end } = d.span;
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= text.length)) {
      problems.push(`${d.code} span [${start}, ${end}] outside a text of ${text.length} characters`);
    }
    if (INTERNAL.test(d.message)) problems.push(`${d.code}: ${d.message}`);
    try {
      const rendered = renderText(d, result.source, { color: false });
      if (rendered.length === 0) problems.push(`${d.code} rendered empty`);
    } catch (error) {
      problems.push(`rendering ${d.code} threw: ${(error as Error).message}`);
    }
  }
  return { problems, ms, errors: errors.length };
}

/** Shortened for a test failure message. */
export function preview(text: string, max = 300): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}...(${text.length} chars)` : text);
}
