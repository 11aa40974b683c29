/** The resource-guard limits as CLI options (shared by check, inspect and train). */
import { DEFAULT_LIMITS, type CheckLimits } from "../check/index.js";
import { UsageError } from "./io.js";

export const LIMIT_OPTIONS = [
  { flags: "--max-params <n>", description: "reject models with more trainable + buffer parameters", default: String(DEFAULT_LIMITS.maxParams), key: "maxParams" },
  { flags: "--max-activations <n>", description: "reject models with more activation values per example", default: String(DEFAULT_LIMITS.maxActivations), key: "maxActivations" },
  { flags: "--max-layers <n>", description: "reject models with more layers after expanding repeat", default: String(DEFAULT_LIMITS.maxLayers), key: "maxLayers" },
] as const;

export function limitsFromOptions(options: Record<string, unknown>): CheckLimits {
  const read = (key: keyof CheckLimits, flag: string): number => {
    const raw = options[key];
    if (raw === undefined) return DEFAULT_LIMITS[key];
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`option '${flag}' must be a positive number; got '${String(raw)}'`);
    return n;
  };
  return { maxParams: read("maxParams", "--max-params"), maxActivations: read("maxActivations", "--max-activations"), maxLayers: read("maxLayers", "--max-layers") };
}
