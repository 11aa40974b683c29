import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** The package version (read from package.json next to dist/). */
export function version(): string {
  return (require("../../../package.json") as { version: string }).version;
}
