// Chooses and initialises the tfjs backend for training and evaluation.
//
// Preference order for "auto": tfjs-node (native TensorFlow, fastest) when it is
// installed, else wasm with the mex training kernels (the stock wasm backend cannot
// run a conv net's backward pass), else the pure-JS cpu backend.
import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { registerTrainingGradients, registerWasmTrainingKernels } from "./wasm-kernels/index.js";

export type BackendChoice = "auto" | "node" | "wasm" | "cpu";

export interface BackendInfo {
  /** tfjs backend name now active: "tensorflow", "wasm" or "cpu". */
  readonly name: string;
  /** One line for logs: why this backend was chosen. */
  readonly reason: string;
}

/** An explicitly requested backend that cannot be used here. */
export class BackendUnavailableError extends Error {
  constructor(readonly choice: BackendChoice, detail: string) {
    super(`tfjs backend '${choice}' is unavailable: ${detail}`);
    this.name = "BackendUnavailableError";
  }
}

type Attempt = { ok: true } | { ok: false; why: string };

// Module specifier kept in a variable so TypeScript does not require the optional package.
const TFJS_NODE = "@tensorflow/tfjs-node";
let nodeAttempt: Promise<Attempt> | undefined;
let wasmAttempt: Promise<Attempt> | undefined;

function describe(e: unknown): string {
  return e instanceof Error ? e.message.split("\n")[0]! : String(e);
}

function tryNode(): Promise<Attempt> {
  nodeAttempt ??= (async (): Promise<Attempt> => {
    try {
      await import(TFJS_NODE);
    } catch (e) {
      const code = (e as { code?: string }).code;
      const notInstalled = code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
      return { ok: false, why: notInstalled ? "tfjs-node not installed" : `tfjs-node failed to load (${describe(e)})` };
    }
    return (await tf.setBackend("tensorflow")) ? { ok: true } : { ok: false, why: "tfjs-node backend failed to initialise" };
  })();
  return nodeAttempt;
}

/** Directory holding tfjs-backend-wasm's .wasm binaries, with the trailing slash setWasmPaths wants. */
export function wasmBinaryDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm")) + path.sep;
}

function tryWasm(): Promise<Attempt> {
  wasmAttempt ??= (async (): Promise<Attempt> => {
    try {
      const wasm = await import("@tensorflow/tfjs-backend-wasm");
      registerWasmTrainingKernels();
      try {
        // In Node the backend reads the binaries from disk; a directory prefix works for all three.
        wasm.setWasmPaths(wasmBinaryDir());
      } catch {
        // Throws only once the backend was initialised elsewhere; its paths evidently worked.
      }
      return (await tf.setBackend("wasm")) ? { ok: true } : { ok: false, why: "wasm backend failed to initialise" };
    } catch (e) {
      return { ok: false, why: `wasm backend failed (${describe(e)})` };
    }
  })();
  return wasmAttempt;
}

async function useCpu(reasonPrefix: string): Promise<BackendInfo> {
  if (!(await tf.setBackend("cpu"))) throw new BackendUnavailableError("cpu", "tfjs cpu backend failed to initialise");
  return { name: "cpu", reason: `${reasonPrefix}using cpu (pure JS, slow)` };
}

/**
 * Activates a tfjs backend. Idempotent: repeated calls reuse the first
 * initialisation and only switch the active backend. An explicit choice that
 * cannot be honoured throws BackendUnavailableError; "auto" always succeeds
 * (cpu is the last resort).
 */
export async function initBackend(choice: BackendChoice): Promise<BackendInfo> {
  // Backend-independent gradient fixes (dilated convs) and speed-ups (batch norm).
  registerTrainingGradients();
  switch (choice) {
    case "cpu":
      return useCpu("requested; ");
    case "node": {
      const node = await tryNode();
      if (!node.ok) throw new BackendUnavailableError("node", node.why);
      return { name: tf.getBackend(), reason: "requested; using tfjs-node (native TensorFlow)" };
    }
    case "wasm": {
      const wasm = await tryWasm();
      if (!wasm.ok) throw new BackendUnavailableError("wasm", wasm.why);
      await tf.setBackend("wasm");
      return { name: "wasm", reason: "requested; using wasm with mex training kernels" };
    }
    case "auto": {
      const node = await tryNode();
      if (node.ok) {
        await tf.setBackend("tensorflow");
        return { name: "tensorflow", reason: "using tfjs-node (native TensorFlow)" };
      }
      const wasm = await tryWasm();
      if (wasm.ok) {
        await tf.setBackend("wasm");
        return { name: "wasm", reason: `${node.why}; using wasm with mex training kernels` };
      }
      return useCpu(`${node.why}; ${wasm.why}; `);
    }
  }
}
