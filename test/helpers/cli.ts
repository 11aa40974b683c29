/** Running the real binary (`node bin/mex.js`) from tests; builds dist/ first when it is missing or stale. */
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const BIN = path.join(ROOT, "bin/mex.js");
const MAIN = path.join(ROOT, "dist/src/cli/main.js");

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/** Compile with tsc when dist/ is older than the sources (tsc emits even if other work in progress has type errors). */
export function ensureBuilt(): void {
  const stale = !existsSync(MAIN) || statSync(MAIN).mtimeMs < Math.max(newestSource(path.join(ROOT, "src")), newestSource(path.join(ROOT, "grammar")));
  if (!stale) return;
  try {
    execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: ROOT, stdio: "ignore" });
  } catch {
    /* emitted anyway */
  }
}

export function mex(args: readonly string[], opts: { cwd?: string; timeout?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: "utf8",
    timeout: opts.timeout ?? 60_000,
    env: { ...process.env, NO_COLOR: "1" },
    maxBuffer: 64 * 1024 * 1024,
  });
}

export function mexAsync(args: readonly string[], opts: { cwd?: string } = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
}

/** A JavaScript stack frame in output means an exception escaped to the user. */
export const STACK_TRACE = /^\s+at .+[(:]\d+/m;
