/**
 * Crash-safe checkpoints: one directory per checkpoint (state.json + tensors.bin), written to a temp
 * directory and renamed into place; the previous checkpoint is kept as `checkpoint.prev` until the
 * new one is complete. Every tensor blob carries a SHA-256 that is verified on load, so a torn or
 * edited checkpoint is detected and the previous good one is used instead (with a warning).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface NamedArray {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface ManifestEntry {
  readonly name: string;
  readonly shape: readonly number[];
  /** Offset and length in float32 elements within tensors.bin. */
  readonly offset: number;
  readonly length: number;
  /** Which group the array belongs to: "weights", "best", "optimizer". */
  readonly group: string;
}

export interface CheckpointFile<S> {
  readonly version: 1;
  /** Caller state (epoch, temperature, history, ...). */
  readonly state: S;
  readonly manifest: readonly ManifestEntry[];
  readonly sha256: string;
}

export const CHECKPOINT_DIR = "checkpoint";
export const PREVIOUS_DIR = "checkpoint.prev";
const STATE_FILE = "state.json";
const TENSORS_FILE = "tensors.bin";

export class CheckpointError extends Error {}

export async function writeCheckpoint<S>(runDir: string, state: S, groups: Record<string, readonly NamedArray[]>): Promise<void> {
  const manifest: ManifestEntry[] = [];
  let total = 0;
  for (const [group, arrays] of Object.entries(groups)) {
    for (const array of arrays) {
      manifest.push({ name: array.name, shape: [...array.shape], offset: total, length: array.data.length, group });
      total += array.data.length;
    }
  }
  const blob = new Float32Array(total);
  let i = 0;
  for (const arrays of Object.values(groups)) for (const array of arrays) blob.set(array.data, manifest[i++]!.offset);
  const bytes = new Uint8Array(blob.buffer);
  const file: CheckpointFile<S> = { version: 1, state, manifest, sha256: sha256(bytes) };

  const temp = join(runDir, `${CHECKPOINT_DIR}.tmp-${process.pid}`);
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp, { recursive: true });
  await writeFile(join(temp, TENSORS_FILE), bytes);
  await writeFile(join(temp, STATE_FILE), JSON.stringify(file));
  const current = join(runDir, CHECKPOINT_DIR);
  const previous = join(runDir, PREVIOUS_DIR);
  // current -> prev, temp -> current: at every instant a complete checkpoint exists under one of the names.
  if (existsSync(current)) {
    await rm(previous, { recursive: true, force: true });
    await rename(current, previous);
  }
  await rename(temp, current);
}

export interface LoadedCheckpoint<S> {
  readonly state: S;
  readonly groups: Map<string, NamedArray[]>;
  /** Set when the newest checkpoint was unusable and the previous one was loaded. */
  readonly warning?: string;
}

/** The newest valid checkpoint, or null when there is none at all. */
export async function loadCheckpoint<S>(runDir: string): Promise<LoadedCheckpoint<S> | null> {
  const problems: string[] = [];
  for (const dir of [CHECKPOINT_DIR, PREVIOUS_DIR]) {
    const path = join(runDir, dir);
    if (!existsSync(path)) continue;
    try {
      const loaded = await readCheckpointDir<S>(path);
      return problems.length > 0 ? { ...loaded, warning: `${problems.join("; ")}; resumed from ${dir} instead` } : loaded;
    } catch (error) {
      problems.push(`checkpoint '${path}' is unusable (${(error as Error).message})`);
    }
  }
  if (problems.length > 0) throw new CheckpointError(`${problems.join("; ")}; no usable checkpoint left`);
  return null;
}

async function readCheckpointDir<S>(dir: string): Promise<LoadedCheckpoint<S>> {
  const file = JSON.parse(await readFile(join(dir, STATE_FILE), "utf8")) as CheckpointFile<S>;
  if (file.version !== 1) throw new CheckpointError(`unknown checkpoint version ${String(file.version)}`);
  const bytes = await readFile(join(dir, TENSORS_FILE));
  if (sha256(bytes) !== file.sha256) throw new CheckpointError("checksum mismatch: the tensors file is corrupt or was edited");
  const blob = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const groups = new Map<string, NamedArray[]>();
  for (const entry of file.manifest) {
    if (entry.offset + entry.length > blob.length) throw new CheckpointError(`tensor '${entry.name}' lies outside the tensors file`);
    const list = groups.get(entry.group) ?? [];
    list.push({ name: entry.name, shape: entry.shape, data: blob.slice(entry.offset, entry.offset + entry.length) });
    groups.set(entry.group, list);
  }
  return { state: file.state, groups };
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Removes temp files and directories (`*.tmp-<pid>...`) that a killed process left in the run directory
 * and its model/ directory: they are never complete, and nothing reads them.
 */
export async function removeStaleTemps(runDir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of [runDir, join(runDir, "model")]) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (!/\.tmp-\d+/.test(name)) continue;
      await rm(join(dir, name), { recursive: true, force: true });
      removed.push(join(dir, name));
    }
  }
  return removed;
}

/** Writes a file through a temp file + rename, so readers never see half of it. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, data);
  await rename(temp, path);
}
