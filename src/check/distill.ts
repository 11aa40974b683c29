/** The `distill` section and exit teacher clauses -> DistillIR (teacher sets T(m), C, tau). */
import type { DistillIR, Span, TemperatureIR } from "../ir/model.js";
import type { Entry } from "../syntax/ast.js";
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import { checkRange } from "./args.js";
import { readEntries, readVariant, type OptionSpec, type Variant } from "./sections.js";
import { didYouMean } from "./suggest.js";
import { describe, type Env, type Value } from "./values.js";

export const DISTILL_OPTIONS: readonly OptionSpec[] = [
  { name: "teachers", doc: "teacher sets T(m): last (the last exit teaches all), later (all later exits), none, or { e1 <- [e2, e3], e2 <- e3 }", default: "last" },
  { name: "weight", doc: "C, the share of the distillation term in [0, 1]; 0.5 is the paper's objective", default: "0.5" },
  { name: "temperature", doc: "tau: a constant (4), adaptive(start, confidence, factor) (the paper's Algorithm 1) or linear(from, to) over epochs", default: "adaptive(start=1, confidence=0.5, factor=1.05)" },
];

/** The named teacher-set modes, for editor completion; `readTeachers` builds their sets. */
export const TEACHER_MODES: readonly { name: "last" | "later" | "none"; doc: string }[] = [
  { name: "last", doc: "the last exit teaches every earlier exit" },
  { name: "later", doc: "every later exit teaches each earlier exit" },
  { name: "none", doc: "no teachers: exit-wise training" },
];

export const TEMPERATURE_VARIANTS: readonly Variant[] = [
  {
    name: "adaptive",
    doc: "Algorithm 1: after a batch whose mean teacher confidence exceeds `confidence`, tau *= factor",
    params: [
      { name: "start", doc: "initial tau", default: "1" },
      { name: "confidence", doc: "mu, the confidence threshold in (0, 1)", default: "0.5" },
      { name: "factor", doc: "growth factor > 1", default: "1.05" },
    ],
  },
  { name: "linear", doc: "tau from `from` at the first epoch to `to` at the last", params: [{ name: "from", doc: "tau at the first epoch", default: "1" }, { name: "to", doc: "tau at the last epoch", default: "4" }] },
  { name: "constant", doc: "a fixed tau", params: [{ name: "value", doc: "tau", positional: true, required: true }] },
];

/** An exit as the teacher checks need it (sorted by stage order). */
export interface ExitRef {
  readonly name: string;
  readonly index: number;
  readonly nameSpan: Span;
  /** `teachers [...]` clause on the exit, if written. */
  readonly clause: Value | null;
}

export function checkDistill(entries: readonly Entry[] | null, sectionSpan: Span | null, exits: readonly ExitRef[], env: Env, bag: DiagnosticBag): DistillIR | null {
  if (entries === null) {
    for (const exit of exits) {
      if (exit.clause) bag.report("MEX2012", exit.clause.span, { name: exit.name });
    }
    return null;
  }
  const options = readEntries("distill", entries, DISTILL_OPTIONS, env, bag);
  const weight = readWeight(options.get("weight")?.value, bag);
  const temperature = readTemperature(options.get("temperature")?.value, env, bag);
  const written = options.get("teachers");
  const clauses = exits.filter((e) => e.clause !== null);
  let mode: DistillIR["mode"];
  let teachers: number[][];
  if (written && clauses.length > 0) {
    for (const exit of clauses) bag.report("MEX2013", exit.clause!.span, { name: exit.name });
    mode = "explicit";
    teachers = exits.map(() => []);
  } else if (clauses.length > 0) {
    mode = "explicit";
    teachers = exits.map((exit) => (exit.clause ? teacherList(exit, exit.clause, exits, bag) : []));
  } else {
    ({ mode, teachers } = readTeachers(written?.value, exits, bag));
  }
  if (weight === 0 && options.has("weight")) bag.report("MEX3903", options.get("weight")!.value.span);
  // After MEX2013 the teacher sets are unknown, not empty: no "no teacher" warning on top.
  else if (exits.length > 0 && !(written && clauses.length > 0) && teachers.every((t) => t.length === 0)) {
    bag.report("MEX3904", written?.value.span ?? sectionSpan ?? exits[0]!.nameSpan);
  }
  return { mode, teachers, weight, temperature };
}

function readWeight(value: Value | undefined, bag: DiagnosticBag): number {
  if (value === undefined || value.kind === "bad") return 0.5;
  if (value.kind !== "num") {
    bag.report("MEX2023", value.span, { expected: "a number in [0, 1]", got: describe(value) });
    return 0.5;
  }
  return checkRange("weight", value, { ge: 0, le: 1, code: "MEX3004" }, bag) ? value.value : 0.5;
}

const DEFAULT_TEMPERATURE: TemperatureIR = { kind: "adaptive", start: 1, confidence: 0.5, factor: 1.05 };

function readTemperature(value: Value | undefined, env: Env, bag: DiagnosticBag): TemperatureIR {
  if (value === undefined || value.kind === "bad") return DEFAULT_TEMPERATURE;
  if (value.kind === "num") {
    return checkRange("temperature", value, { gt: 0, code: "MEX3001" }, bag) ? { kind: "constant", value: value.value } : DEFAULT_TEMPERATURE;
  }
  const variant = readVariant(value, "temperature", TEMPERATURE_VARIANTS, env, bag);
  if (!variant) return DEFAULT_TEMPERATURE;
  const r = variant.reader;
  const positive = { gt: 0, code: "MEX3001" } as const;
  switch (variant.name) {
    case "adaptive":
      return {
        kind: "adaptive",
        start: r.number("start", 1, positive),
        confidence: r.number("confidence", 0.5, { gt: 0, lt: 1, code: "MEX3003" }),
        factor: r.number("factor", 1.05, { gt: 1, code: "MEX3002" }),
      };
    case "linear":
      return { kind: "linear", from: r.number("from", 1, positive), to: r.number("to", 4, positive) };
    default:
      return { kind: "constant", value: r.number("value", 1, positive) };
  }
}

function readTeachers(value: Value | undefined, exits: readonly ExitRef[], bag: DiagnosticBag): { mode: DistillIR["mode"]; teachers: number[][] } {
  const last = exits.length - 1;
  const byMode = {
    last: () => exits.map((_, m) => (m < last ? [last] : [])),
    later: () => exits.map((_, m) => Array.from({ length: last - m }, (_, k) => m + 1 + k)),
    none: () => exits.map(() => []),
  } satisfies Record<(typeof TEACHER_MODES)[number]["name"], () => number[][]>;
  if (value === undefined || value.kind === "bad") return { mode: "last", teachers: byMode.last() };
  if (value.kind === "sym" && value.name in byMode) {
    const mode = value.name as keyof typeof byMode;
    return { mode, teachers: byMode[mode]() };
  }
  if (value.kind === "sym") {
    const hint = didYouMean(value.name, Object.keys(byMode));
    bag.report("MEX2021", value.span, { value: value.name, option: "teachers" }, { hint: hint ?? "use last, later, none or { e1 <- [e2, e3] }" });
    return { mode: "last", teachers: byMode.last() };
  }
  if (value.kind !== "map") {
    bag.report("MEX2023", value.span, { expected: "last, later, none or a map { e1 <- [e2, e3] }", got: describe(value) });
    return { mode: "last", teachers: byMode.last() };
  }
  const teachers: number[][] = exits.map(() => []);
  const seen = new Set<string>();
  for (const entry of value.entries) {
    const student = findExit(entry.key, entry.keySpan, exits, bag);
    if (!student) continue;
    if (seen.has(student.name)) {
      bag.report("MEX2015", entry.keySpan, { what: `teacher set for exit '${student.name}'` });
      continue;
    }
    seen.add(student.name);
    teachers[student.index] = teacherList(student, entry.value, exits, bag);
  }
  return { mode: "explicit", teachers };
}

/** `e3` or `[e2, e3]` -> exit indices, each checked to be a later exit. */
function teacherList(student: ExitRef, value: Value, exits: readonly ExitRef[], bag: DiagnosticBag): number[] {
  const items = value.kind === "list" ? value.items : [value];
  const result: number[] = [];
  for (const item of items) {
    if (item.kind === "bad") continue;
    if (item.kind !== "sym") {
      bag.report("MEX2023", item.span, { expected: "an exit name", got: describe(item) });
      continue;
    }
    // Suggest only exits that could teach this student.
    const teacher = findExit(item.name, item.span, exits, bag, exits.filter((e) => e.index > student.index));
    if (!teacher) continue;
    if (teacher.index === student.index) bag.report("MEX2010", item.span, { name: student.name });
    else if (teacher.index < student.index) bag.report("MEX2011", item.span, { teacher: teacher.name, student: student.name });
    else if (!result.includes(teacher.index)) result.push(teacher.index);
  }
  return result.sort((a, b) => a - b);
}

function findExit(name: string, span: Span, exits: readonly ExitRef[], bag: DiagnosticBag, suggestions: readonly ExitRef[] = exits): ExitRef | undefined {
  const exit = exits.find((e) => e.name === name);
  if (!exit) {
    const hint = didYouMean(name, suggestions.map((e) => e.name));
    bag.report("MEX2009", span, { name }, hint ? { hint } : {});
  }
  return exit;
}
