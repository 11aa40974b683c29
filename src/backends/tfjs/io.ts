/**
 * Save and load a tf.LayersModel as `model.json` + `weights.bin` in a directory, without
 * tfjs-node (pure tfjs has no `file://` handler). The files are the standard tfjs layers format,
 * so `tf.loadLayersModel` (with tfjs-node or over HTTP) and the tfjs converter can read them.
 *
 * Writes are atomic per file (temp file + rename): `weights.bin` first, then `model.json`, so a
 * reader never sees a model.json whose weights have not been written. Importing this module
 * registers the backend's custom layers, which loading needs.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import "./layers/index.js";

export const MODEL_FILE = "model.json";
export const WEIGHTS_FILE = "weights.bin";

export interface SaveOptions {
  /** Stored as `userDefinedMetadata` in model.json (e.g. the spec hash and seed). */
  readonly metadata?: Record<string, unknown>;
}

/** The model.json written by `saveModel` (tfjs "layers-model" format). */
interface ModelJson {
  readonly format: "layers-model";
  readonly generatedBy: string;
  readonly convertedBy: null;
  readonly modelTopology: unknown;
  readonly weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  readonly userDefinedMetadata?: Record<string, unknown>;
  /** SHA-256 of weights.bin (hex), verified on load so an edited or torn weights file is never used. */
  readonly weightsSha256?: string;
}

/** Write `dir/model.json` and `dir/weights.bin` (creating `dir`). Training config is not saved. */
export async function saveModel(model: tf.LayersModel, dir: string, opts: SaveOptions = {}): Promise<void> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  if (!artifacts?.modelTopology || !artifacts.weightSpecs) throw new Error(`saving ${model.name}: tfjs produced no topology or weight specs`);
  const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0));
  const json: ModelJson = {
    format: "layers-model",
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [`./${WEIGHTS_FILE}`], weights: artifacts.weightSpecs }],
    ...(opts.metadata ? { userDefinedMetadata: opts.metadata } : {}),
    weightsSha256: createHash("sha256").update(new Uint8Array(weights)).digest("hex"),
  };
  await mkdir(dir, { recursive: true });
  await writeAtomic(join(dir, WEIGHTS_FILE), new Uint8Array(weights));
  await writeAtomic(join(dir, MODEL_FILE), JSON.stringify(json));
}

export interface LoadedModel {
  readonly model: tf.LayersModel;
  /** `userDefinedMetadata` of model.json, or null. */
  readonly metadata: Record<string, unknown> | null;
}

/** Read a directory written by `saveModel` (or any single-shard tfjs layers model). */
export async function loadModelWithMetadata(dir: string): Promise<LoadedModel> {
  const json = JSON.parse(await readFile(join(dir, MODEL_FILE), "utf8")) as ModelJson;
  if (json.format !== undefined && json.format !== "layers-model") throw new Error(`${join(dir, MODEL_FILE)}: format "${json.format}" is not a layers model`);
  const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
  const shards = await Promise.all(json.weightsManifest.flatMap((group) => group.paths).map((p) => readWeightsFile(join(dir, p))));
  verifyWeights(shards, json.weightsSha256, dir);
  const weightData = tf.io.CompositeArrayBuffer.join(shards.map(toArrayBuffer));
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology as object, weightSpecs, weightData }));
  return { model, metadata: json.userDefinedMetadata ?? null };
}

export async function loadModel(dir: string): Promise<tf.LayersModel> {
  return (await loadModelWithMetadata(dir)).model;
}

async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}

async function readWeightsFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === "ENOENT" ? `the weights file ${path} is missing` : `cannot read the weights file ${path}: ${(error as Error).message}`);
  }
}

/** Files written by `saveModel` carry the SHA-256 of their weights; other tfjs models are loaded unverified. */
function verifyWeights(shards: readonly Buffer[], expected: string | undefined, dir: string): void {
  if (expected === undefined) return;
  const hash = createHash("sha256");
  for (const shard of shards) hash.update(shard);
  const actual = hash.digest("hex");
  if (actual !== expected) {
    throw new Error(`${join(dir, WEIGHTS_FILE)} does not match the SHA-256 recorded in ${MODEL_FILE} (the file is corrupt, truncated or was edited): expected ${expected.slice(0, 12)}..., found ${actual.slice(0, 12)}...`);
  }
}

function toArrayBuffer(buffer: Buffer): ArrayBuffer {
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
}
