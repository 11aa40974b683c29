/**
 * Property tests of the front end (parse + check) with fast-check, fixed seeds so CI is reproducible:
 * random token streams, mutations of every spec in specs/, and random unicode / binary text. Every
 * input must satisfy `checkInvariants` (no throw, an error when the check fails, spans inside the
 * text, renderable diagnostics, bounded time). MEX_FUZZ_SCALE=10 runs ten times as many inputs.
 */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { tokenize } from "../../src/syntax/parse.js";
import { KEYWORDS } from "../../src/syntax/parse.js";
import { LAYERS } from "../../src/ops/index.js";
import { checkInvariants, preview } from "./invariants.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SCALE = Number(process.env.MEX_FUZZ_SCALE ?? 1);
const SEED = Number(process.env.MEX_FUZZ_SEED ?? 20190);
/** Generous: the suite shares 2 cores with other work; a slow input fails on its own bound (checkInvariants). */
const TIMEOUT = 120_000 * SCALE;
const counts = { tried: 0, invalid: 0, valid: 0, slowestMs: 0 };

function assertInvariants(text: string): void {
  const outcome = checkInvariants(text);
  counts.tried++;
  if (outcome.errors > 0) counts.invalid++;
  else counts.valid++;
  counts.slowestMs = Math.max(counts.slowestMs, outcome.ms);
  if (outcome.problems.length > 0) throw new Error(`${outcome.problems.join("; ")}\ninput: ${preview(text)}`);
}

afterAll(() => {
  console.log(`fuzz: ${counts.tried} inputs tried (${counts.invalid} with errors, ${counts.valid} without), seed ${SEED}, slowest check ${counts.slowestMs.toFixed(0)} ms, 0 failures`);
});

// -------------------------------------------------------------------------------------------------
// The language's vocabulary

const SPECIAL_NUMBERS = ["0", "-1", "9007199254740992", "1e309", "NaN", "1e-320", "-0", "4294967296", "0.5", "1e-7", "999999999999999999999", ".5", "1.", "00"];
const UNICODE_WORDS = ["ñame", "变量", "𝔵", "e\u0301", "\u200b", "\u202e", "Ω", "\ud800", "\uffff", "😀"];
const UNICODE_STRINGS = ['"日本語"', '"\\""', '"😀"', '"a\\\\"', '"\u0000"', '"\\', '"unterminated'];
const PUNCTUATION = ["{", "}", "(", ")", "[", "]", ",", ";", ":", "=", "<-", "+", "-", "*", "/", "%"];
const NAMES = [
  ...LAYERS.keys(), "stage", "s1", "s2", "e1", "e2", "x", "classes", "train", "distill", "data", "optimizer", "epochs", "batch", "seed",
  "teachers", "weight", "temperature", "adaptive", "constant", "synthetic", "fashion_mnist", "idx", "dir", "sgd", "adam", "lr", "last",
  "all", "later", "kernel", "stride", "padding", "same", "valid", "schedule", "cosine", "multistep", "milestones", "augment", "flip", "crop",
];
const VOCABULARY = [...KEYWORDS, ...NAMES, ...PUNCTUATION, ...SPECIAL_NUMBERS, "1", "2", "3", "8", "16", "32", "\"runs/x\"", "// c\n", "/* b */", "/*"];
const SEPARATORS = [" ", " ", " ", "\n", "\r\n", "\t", "", "\r"];

const tokenArb = fc.constantFrom(...VOCABULARY, ...UNICODE_WORDS, ...UNICODE_STRINGS);
const separatorArb = fc.constantFrom(...SEPARATORS);

/** `model m {` + random tokens + `}` half the time, so the parser gets past the first token. */
const tokenStreamArb = fc
  .record({ framed: fc.boolean(), tokens: fc.array(fc.tuple(tokenArb, separatorArb), { maxLength: 80 }) })
  .map(({ framed, tokens }) => {
    const body = tokens.map(([t, s]) => t + s).join("");
    return framed ? `model m {\n${body}\n}` : body;
  });

// -------------------------------------------------------------------------------------------------
// Spec mutations

const SPECS = readdirSync(path.join(ROOT, "specs"))
  .filter((f) => f.endsWith(".mex"))
  .sort()
  .map((f) => ({ name: f, text: readFileSync(path.join(ROOT, "specs", f), "utf8") }));

/** A spec as alternating separators and tokens: text = seps[0] + toks[0] + seps[1] + ... + seps[n]. */
interface Pieces {
  toks: string[];
  kinds: string[];
  seps: string[];
}

function split(text: string): Pieces {
  const toks: string[] = [], kinds: string[] = [], seps: string[] = [];
  let at = 0;
  for (const t of tokenize(text)) {
    seps.push(text.slice(at, t.span.start));
    toks.push(t.text);
    kinds.push(t.type);
    at = t.span.end;
  }
  seps.push(text.slice(at));
  return { toks, kinds, seps };
}

function join(p: Pieces): string {
  let out = p.seps[0]!;
  for (let i = 0; i < p.toks.length; i++) out += p.toks[i]! + (p.seps[i + 1] ?? " ");
  return out;
}

type Mutation =
  | { op: "delete" | "duplicate"; at: number }
  | { op: "swap"; at: number; with: number }
  | { op: "number"; at: number; value: string }
  | { op: "unicode"; at: number; word: string }
  | { op: "insert"; at: number; token: string };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constantFrom("delete" as const, "duplicate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("swap" as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ op: fc.constant("number" as const), at: fc.nat(), value: fc.constantFrom(...SPECIAL_NUMBERS) }),
  fc.record({ op: fc.constant("unicode" as const), at: fc.nat(), word: fc.constantFrom(...UNICODE_WORDS, ...UNICODE_STRINGS) }),
  fc.record({ op: fc.constant("insert" as const), at: fc.nat(), token: tokenArb }),
);

function mutate(p: Pieces, m: Mutation): void {
  const n = p.toks.length;
  if (n === 0) return;
  const i = m.at % n;
  switch (m.op) {
    case "delete":
      p.toks.splice(i, 1);
      p.kinds.splice(i, 1);
      p.seps.splice(i + 1, 1);
      break;
    case "duplicate":
      p.toks.splice(i, 0, p.toks[i]!);
      p.kinds.splice(i, 0, p.kinds[i]!);
      p.seps.splice(i + 1, 0, " ");
      break;
    case "swap": {
      const j = m.with % n;
      [p.toks[i], p.toks[j]] = [p.toks[j]!, p.toks[i]!];
      [p.kinds[i], p.kinds[j]] = [p.kinds[j]!, p.kinds[i]!];
      break;
    }
    case "number": {
      // The nearest number at or after i (numbers are where the checker's arithmetic lives).
      for (let k = 0; k < n; k++) {
        const j = (i + k) % n;
        if (p.kinds[j] === "NumberLit") {
          p.toks[j] = m.value;
          break;
        }
      }
      break;
    }
    case "unicode": {
      const want = m.word.startsWith('"') ? "StringLit" : "Ident";
      let j = i;
      for (let k = 0; k < n; k++) if (p.kinds[(i + k) % n] === want) { j = (i + k) % n; break; }
      p.toks[j] = m.word;
      break;
    }
    case "insert":
      p.toks.splice(i, 0, m.token);
      p.kinds.splice(i, 0, "Inserted");
      p.seps.splice(i + 1, 0, " ");
      break;
  }
}

const mutatedSpecArb = fc
  .record({
    spec: fc.constantFrom(...SPECS),
    mutations: fc.array(mutationArb, { minLength: 1, maxLength: 5 }),
    crlf: fc.boolean(),
    tabs: fc.boolean(),
  })
  .map(({ spec, mutations, crlf, tabs }) => {
    const pieces = split(spec.text);
    for (const m of mutations) mutate(pieces, m);
    let text = join(pieces);
    if (crlf) text = text.replace(/\n/g, "\r\n");
    if (tabs) text = text.replace(/ {2}/g, "\t");
    return text;
  });

// -------------------------------------------------------------------------------------------------

describe("fuzzing the front end (fast-check, fixed seed)", () => {
  it("every spec in specs/ checks clean, also with CRLF line ends and tabs", () => {
    expect(SPECS.length).toBeGreaterThanOrEqual(5);
    for (const spec of SPECS) {
      for (const text of [spec.text, spec.text.replace(/\n/g, "\r\n"), spec.text.replace(/ {2}/g, "\t")]) {
        const outcome = checkInvariants(text);
        expect(outcome.problems).toEqual([]);
        expect(outcome.errors, spec.name).toBe(0);
      }
    }
  });

  it("random token streams of the language", () => {
    fc.assert(fc.property(tokenStreamArb, assertInvariants), { seed: SEED, numRuns: 1500 * SCALE });
  }, TIMEOUT);

  it("mutations of every spec: deleted, duplicated, swapped, inserted tokens; odd numbers; unicode; CRLF; tabs", () => {
    fc.assert(fc.property(mutatedSpecArb, assertInvariants), { seed: SEED + 1, numRuns: 2000 * SCALE });
  }, TIMEOUT);

  it("odd numbers and names in otherwise valid specs (reaches the checker, not only the parser)", () => {
    const numbersOnly = fc.record({ op: fc.constant("number" as const), at: fc.nat(), value: fc.constantFrom(...SPECIAL_NUMBERS, "1", "2", "3", "7", "64", "100000") });
    const namesOnly = fc.record({ op: fc.constant("unicode" as const), at: fc.nat(), word: fc.constantFrom(...NAMES, ...UNICODE_WORDS) });
    const arb = fc
      .record({ spec: fc.constantFrom(...SPECS), mutations: fc.array(fc.oneof(numbersOnly, namesOnly), { minLength: 1, maxLength: 4 }) })
      .map(({ spec, mutations }) => {
        const pieces = split(spec.text);
        for (const m of mutations) mutate(pieces, m);
        return join(pieces);
      });
    fc.assert(fc.property(arb, assertInvariants), { seed: SEED + 3, numRuns: 1000 * SCALE });
  }, TIMEOUT);

  it("random unicode and binary text", () => {
    const binary = fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes).toString("utf8"));
    const latin1 = fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes).toString("latin1"));
    const unicode = fc.string({ unit: "binary", maxLength: 200 });
    const prefixed = fc.tuple(fc.constantFrom("model m {", "model m { input [", "model m { train { data: ", ""), unicode).map(([a, b]) => a + b);
    fc.assert(fc.property(fc.oneof(binary, latin1, unicode, prefixed), assertInvariants), { seed: SEED + 2, numRuns: 1000 * SCALE });
  }, TIMEOUT);
});
