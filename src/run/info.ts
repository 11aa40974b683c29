/** run.json: what makes a run directory self-describing. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { ModelIR } from "../ir/model.js";
import { writeFileAtomic } from "../train/checkpoint.js";

export const RUN_FILE = "run.json";
export const SPEC_FILE = "spec.mex";

export interface RunInfo {
  readonly mex: string;
  readonly status: "running" | "completed" | "failed" | "stopped";
  /** The spec file as given on the command line. */
  readonly specFile: string;
  /** The effective spec text (with --set overrides applied); also in spec.mex. */
  readonly spec: string;
  readonly specHash: string;
  readonly overrides: readonly string[];
  readonly model: string;
  readonly exits: readonly { name: string; after: string; cumulativeMacs: number; fraction: number }[];
  readonly train: ModelIR["train"];
  readonly distill: ModelIR["distill"];
  readonly backend: { readonly name: string; readonly reason: string };
  readonly versions: { readonly node: string; readonly tfjs: string };
  readonly data?: string;
  readonly started: string;
  readonly finished?: string;
  readonly bestEpoch?: number;
  readonly results?: readonly { name: string; cumulativeMacs: number; valAcc: number; testAcc: number }[];
  readonly error?: string;
}

export function describeRun(ir: ModelIR, specFile: string, overrides: readonly string[], backend: RunInfo["backend"], mexVersion: string): RunInfo {
  return {
    mex: mexVersion,
    status: "running",
    specFile,
    spec: ir.source,
    specHash: ir.sourceHash,
    overrides,
    model: ir.name,
    exits: ir.exits.map((e) => ({ name: e.name, after: e.after, cumulativeMacs: e.cumulativeMacs, fraction: e.fraction })),
    train: ir.train,
    distill: ir.distill,
    backend,
    versions: { node: process.version, tfjs: tf.version.tfjs },
    started: new Date().toISOString(),
  };
}

export async function writeRunInfo(dir: string, info: RunInfo): Promise<void> {
  await writeFileAtomic(join(dir, RUN_FILE), `${JSON.stringify(info, null, 2)}\n`);
}

export async function readRunInfo(dir: string): Promise<RunInfo> {
  let text: string;
  try {
    text = await readFile(join(dir, RUN_FILE), "utf8");
  } catch {
    throw new RunError(`'${dir}' is not a run directory: ${RUN_FILE} is missing`);
  }
  try {
    return JSON.parse(text) as RunInfo;
  } catch (error) {
    throw new RunError(`${join(dir, RUN_FILE)} is not valid JSON (${(error as Error).message})`);
  }
}

export class RunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunError";
  }
}
