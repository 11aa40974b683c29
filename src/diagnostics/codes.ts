/**
 * Every diagnostic mex can emit: one table, stable codes, message templates.
 *
 * Code ranges by phase (as in the TypeScript compiler):
 *   MEX1xxx  lexing and parsing
 *   MEX2xxx  names and structure (unknown / duplicate / missing things)
 *   MEX3xxx  values and options (ranges, types); MEX39xx are warnings
 *   MEX4xxx  shapes and costs (inference, resource guard)
 * A test asserts that codes are unique, in their phase's range, and documented in the README.
 * Never renumber a code: CI configurations and baselines refer to them.
 */
import type { Severity } from "./diagnostic.js";

export interface CodeEntry {
  readonly severity: Severity;
  /** Template with `{placeholders}` filled from the report's arguments. */
  readonly message: string;
  /** Default hint (also a template); a report may pass a more specific one. */
  readonly hint?: string;
  /** One-line description for docs, SARIF rule help and the LSP. */
  readonly help: string;
}

const e = (message: string, help: string, hint?: string): CodeEntry => ({ severity: "error", message, help, ...(hint ? { hint } : {}) });
const w = (message: string, help: string, hint?: string): CodeEntry => ({ severity: "warning", message, help, ...(hint ? { hint } : {}) });

export const CODES = {
  // --- MEX1xxx: lexing and parsing -------------------------------------------------------
  MEX1001: e("unexpected character '{char}'", "A character that is not part of the .mex language.", "remove it; strings use double quotes and comments use // or /* */"),
  MEX1002: e("unterminated string", "A string literal without its closing double quote on the same line.", "close the string with \""),
  MEX1003: e("unterminated block comment", "A /* comment without its closing */.", "close the comment with */"),
  MEX1010: e("expected {expected} but found {found}", "The parser expected a specific token here."),
  MEX1011: e("unexpected {found}{context}", "A token that cannot start or continue the construct being parsed."),
  MEX1012: e("the file contains no model", "A spec must contain exactly one `model NAME { ... }`.", "start with `model my_model { ... }` (try `mex init`)"),
  MEX1013: e("only one model per file; found another model '{name}'", "A spec must contain exactly one model.", "move the second model to its own file"),
  MEX1014: e("nesting deeper than {limit} levels", "Blocks and expressions nest at most a fixed depth, so hostile input cannot exhaust the stack."),

  // --- MEX2xxx: names and structure ------------------------------------------------------
  MEX2001: e("unknown layer '{name}'", "A layer name that the language does not define."),
  MEX2002: e("unknown parameter '{name}' for {op}", "A named argument that the layer or option does not take."),
  MEX2003: e("unknown section '{name}'", "A block inside the model that is not a known section (distill, train)."),
  MEX2004: e("unknown option '{name}' in {section}", "A `key: value` entry that the section does not take."),
  MEX2005: e("duplicate {kind} '{name}'", "Stages, exits and constants share one namespace and must be unique.", "rename one of them"),
  MEX2006: e("exit '{exit}' is attached after unknown stage '{name}'", "`exit NAME after STAGE` must name a stage of the backbone."),
  MEX2007: e("two exits after stage '{stage}': '{first}' and '{second}'", "At most one exit may sit after each stage.", "attach one of them after another stage"),
  MEX2008: e("no exit after the last stage '{stage}'", "The last exit must sit after the last stage: it is the full network.", "add `exit NAME after {stage} { gap dense(classes) }`"),
  MEX2009: e("unknown teacher '{name}'", "A teacher set names an exit that does not exist."),
  MEX2010: e("exit '{name}' cannot teach itself", "T(m) must not contain m.", "teachers must be later exits"),
  MEX2011: e("teacher '{teacher}' of exit '{student}' is an earlier exit", "Teachers must be later (deeper) exits than their student, as in the paper.", "teachers must be later exits; swap them or drop this teacher"),
  MEX2012: e("teacher set for exit '{name}' but the spec has no distill section", "Teacher sets only mean something with distillation.", "add a `distill { ... }` section, or remove the teachers for exit-wise training"),
  MEX2013: e("teachers are given both in the distill section and on exit '{name}'", "Write teacher sets in one place.", "keep either `teachers:` in distill or the `teachers [...]` clauses on exits"),
  MEX2014: e("missing {what}", "A required part of the model is absent."),
  MEX2015: e("duplicate {what}", "A declaration or option appears twice.", "remove one of them"),
  MEX2016: e("{op} needs {what}", "A required argument is missing."),
  MEX2017: e("{op} takes at most {max} positional argument{s}", "Too many positional arguments.", "name the extra arguments, e.g. kernel=3"),
  MEX2018: e("argument '{name}' given twice to {op}", "The same argument appears twice in one call."),
  MEX2019: e("unknown name '{name}'", "An identifier in an expression that is neither a constant nor `classes`."),
  MEX2020: e("constant '{name}' is used before it is defined", "Constants are defined with `let` before their first use.", "move `let {name} = ...` above this line"),
  MEX2021: e("unknown value '{value}' for {option}", "A keyword value that the option does not accept."),
  MEX2022: e("{what} takes no arguments", "Arguments were given to something that accepts none.", "write it without parentheses"),
  MEX2023: e("expected {expected}, got {got}", "A value of the wrong kind."),
  MEX2024: e("a stage must contain at least one layer", "An empty stage computes nothing.", "add layers or remove the stage"),
  MEX2025: e("exit '{name}' has an empty head", "An exit head must end in `dense(classes)`.", "write e.g. `{ gap dense(classes) }`"),

  // --- MEX3xxx: values and options -------------------------------------------------------
  MEX3001: e("temperature must be > 0, got {value}", "Distillation temperature tau is a positive number."),
  MEX3002: e("temperature factor must be > 1, got {value}", "The adaptive rule multiplies tau by factor > 1; tau never decreases."),
  MEX3003: e("confidence must lie strictly between 0 and 1, got {value}", "The adaptive rule compares mean teacher confidence with mu in (0, 1)."),
  MEX3004: e("distillation weight must lie in [0, 1], got {value}", "C is the share of the distillation term."),
  MEX3005: e("classes must be an integer >= 2, got {value}", "A classifier needs at least two classes."),
  MEX3006: e("exit '{name}' ends with {got} but must end with dense(classes) = {classes} units", "Every exit head produces `classes` logits.", "end the head with `dense(classes)`"),
  MEX3007: e("learning rate must be > 0, got {value}", "The optimizer's lr must be positive."),
  MEX3008: e("milestones must be strictly increasing: {prev} then {value}", "Multistep milestones are increasing epoch numbers."),
  MEX3009: e("milestone {value} is beyond the last epoch ({epochs} epochs)", "A milestone at or after `epochs` never takes effect.", "use milestones below {epochs}, or raise epochs"),
  MEX3010: e("per_class ({perClass}) must exceed val_per_class ({valPerClass})", "Validation images come out of the per-class budget; training needs at least one left."),
  MEX3011: e("{name} must be {constraint}, got {value}", "A numeric value outside its allowed range."),
  MEX3012: e("{name} must be an integer, got {value}", "A count, size or index is a whole number."),
  MEX3013: e("division by zero", "An integer expression divides by zero."),
  MEX3014: e("number is not finite: {value}", "Numbers must be finite (no overflow, no NaN).", "use a number below 1e308"),
  MEX3015: e("input must be [height, width, channels] or [features] with positive integers, got {value}", "The input shape per example, channels last."),
  MEX3016: e("constant expressions are integers; '{op}' of {left} and {right} is not an integer", "Constant arithmetic is integer arithmetic.", "use `//`-free integer values, or write the literal"),
  MEX3017: e("{data} cannot feed the model input {input}: {problem}", "Built-in datasets fix the example shape: synthetic renders [H, W, 1|3] images (8..256 pixels) or square images flattened into [S*S] / [S*S*3] vectors; fashion_mnist is 28x28x1 images or [784] vectors.", "{fix}"),
  MEX3018: e("{data} has {supported} classes, but the model has {classes}", "The model's classes must match the dataset's labels.", "{fix}"),
  MEX3901: w("dropout with rate 0 does nothing", "A dropout layer with rate 0 is an identity.", "remove it or set a rate in (0, 1)"),
  MEX3902: w("exit '{name}' costs {percent}% of the next exit '{next}' ({macs} vs {nextMacs} MACs)", "An exit that costs almost as much as the next one saves little compute.", "move it after an earlier stage or make its head cheaper"),
  MEX3903: w("distillation weight is 0: the distill section has no effect", "With C = 0 the objective is the exit-wise loss.", "remove the distill section for exit-wise training"),
  MEX3904: w("no exit has a teacher: the distill section has no effect", "With every T(m) empty the distillation term is 0."),
  MEX3906: w("milestone {value} never takes effect with {epochs} epochs (epochs set by --set)", "A shortened run (--set train.epochs=N) skips the milestones beyond it; in a spec file this is error MEX3009."),
  MEX3905: w("constant '{name}' is never used", "A `let` constant that nothing refers to.", "remove it"),

  // --- MEX4xxx: shapes and costs ---------------------------------------------------------
  MEX4001: e("{op} needs {expected} input, got {shape}", "A layer applied to a tensor of the wrong rank.", "{fix}"),
  MEX4002: e("{op} window {window} does not fit its input {shape}", "With valid padding the (dilated) window must fit inside the input.", "use padding=same, a smaller window, or fewer downsampling layers before it"),
  MEX4003: e("residual branches disagree: body gives {body}, shortcut gives {shortcut}, and no 1x1 projection can match them", "The body and shortcut of a residual must produce the same shape; an automatic projection handles channel and stride changes only.", "write an explicit `shortcut { ... }`"),
  MEX4004: e("explicit shortcut gives {shortcut} but the body gives {body}", "The body and shortcut of a residual must produce the same shape."),
  MEX4005: e("groups={groups} must divide both input channels ({inC}) and filters ({filters})", "Grouped convolutions split channels evenly."),
  MEX4006: e("concat needs its body to keep the spatial size {input}, got {body}", "DenseNet-style concat joins input and body along channels only.", "use padding=same and stride 1 inside concat"),
  MEX4010: e("model has {params} parameters, above the limit of {limit}", "The resource guard rejects models too large to allocate, before anything is allocated.", "shrink the model, or raise the limit with --max-params"),
  MEX4011: e("activations need {elements} values per example, above the limit of {limit}", "The resource guard bounds activation memory per example.", "shrink the input or the widths, or raise the limit with --max-activations"),
  MEX4012: e("the model expands to more than {limit} layers", "`repeat` counts multiply; the expanded network is bounded.", "lower the repeat counts"),
} as const satisfies Record<string, CodeEntry>;

export type Code = keyof typeof CODES;

export const ALL_CODES = Object.keys(CODES) as Code[];
