/**
 * Consistency checks on evaluator inputs. Returns a message per problem (empty = fine), so the
 * entry point can report them as values; the computing functions assume these hold.
 */
import type { ExitInfo, ExitOutputs } from "./types.js";

/** Problems with one split's outputs against the exit list; `split` names it in messages. */
export function checkOutputs(out: ExitOutputs, exits: readonly ExitInfo[], split: string): string[] {
  const problems: string[] = [];
  const n = out.labels.length;
  if (exits.length === 0) problems.push("there are no exits to evaluate");
  if (!Number.isInteger(out.classes) || out.classes < 1)
    problems.push(`${split}: classes must be a positive integer, got ${out.classes}`);
  if (out.probs.length !== exits.length)
    problems.push(`${split}: ${out.probs.length} exit outputs for ${exits.length} exits`);
  if (n === 0) problems.push(`${split}: no examples`);
  out.probs.forEach((p, m) => {
    if (p.length !== n * out.classes)
      problems.push(
        `${split}: exit ${m} has ${p.length} probabilities, expected ${n} examples x ${out.classes} classes = ${n * out.classes}`,
      );
  });
  for (let i = 0; i < n; i++) {
    const y = out.labels[i];
    if (y < 0 || y >= out.classes) {
      problems.push(`${split}: label ${y} of example ${i} is outside [0, ${out.classes})`);
      break; // one is enough to say the labels are wrong
    }
  }
  return problems;
}

/** Problems with the exit list itself: names, finite non-negative costs, optional cost vector. */
export function checkExits(exits: readonly ExitInfo[], exitCost?: readonly number[]): string[] {
  const problems: string[] = [];
  exits.forEach((e, m) => {
    if (!Number.isFinite(e.cumulativeMacs) || e.cumulativeMacs < 0)
      problems.push(`exit ${m} (${e.name}): cumulativeMacs must be a finite non-negative number, got ${e.cumulativeMacs}`);
  });
  if (exitCost !== undefined) {
    if (exitCost.length !== exits.length)
      problems.push(`exitCostIfStopAt has ${exitCost.length} entries for ${exits.length} exits`);
    exitCost.forEach((c, m) => {
      if (!Number.isFinite(c) || c < 0) problems.push(`exitCostIfStopAt[${m}] must be finite and >= 0, got ${c}`);
    });
  }
  return problems;
}
