/** Small shared pieces of the CLI: output streams, exit codes, usage errors. */

export const EXIT = {
  ok: 0,
  /** The input has errors (diagnostics were printed). */
  failed: 1,
  /** Bad usage or unreadable files. */
  usage: 2,
} as const;

/** A problem with how mex was called (bad option value, unreadable file): exit code 2. */
export class UsageError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface Io {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export const processIo: Io = { stdout: process.stdout, stderr: process.stderr };

export function writeLine(stream: NodeJS.WritableStream, text = ""): void {
  stream.write(text.endsWith("\n") ? text : `${text}\n`);
}

/** Validates a --format style option against its accepted values (named in the error). */
export function choice<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`option '${option}' must be one of ${allowed.join(", ")}; got '${value}'`);
}
