/** The diagnostics table: unique codes in their phase's range, and every code documented in README.md. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ALL_CODES, CODES } from "../../src/diagnostics/codes.js";

/** Phase ranges from the header of src/diagnostics/codes.ts. */
const PHASES: [RegExp, string][] = [
  [/^MEX1\d{3}$/, "lexing and parsing"],
  [/^MEX2\d{3}$/, "names and structure"],
  [/^MEX3\d{3}$/, "values and options"],
  [/^MEX4\d{3}$/, "shapes and costs"],
];

describe("diagnostic codes", () => {
  it("are unique and well-formed", () => {
    expect(new Set(ALL_CODES).size).toBe(ALL_CODES.length);
    for (const code of ALL_CODES) expect(code).toMatch(/^MEX[1-4]\d{3}$/);
    // Object keys cannot repeat, so also look at the source text for a code written twice.
    const source = readFileSync("src/diagnostics/codes.ts", "utf8");
    for (const code of ALL_CODES) expect(source.match(new RegExp(`^\\s*${code}:`, "gm"))?.length, code).toBe(1);
  });

  it("sit in their phase's range; MEX39xx and only those are warnings", () => {
    for (const code of ALL_CODES) {
      expect(PHASES.some(([re]) => re.test(code)), code).toBe(true);
      const warning = /^MEX39\d{2}$/.test(code);
      expect(CODES[code].severity, code).toBe(warning ? "warning" : "error");
      expect(CODES[code].message.length).toBeGreaterThan(0);
      expect(CODES[code].help.length).toBeGreaterThan(0);
    }
  });

  it("are each documented in README.md's Diagnostics table with their severity", () => {
    const readme = readFileSync("README.md", "utf8");
    const start = readme.indexOf("## Diagnostics");
    expect(start).toBeGreaterThan(-1);
    const section = readme.slice(start, readme.indexOf("\n## ", start + 1) === -1 ? undefined : readme.indexOf("\n## ", start + 1));
    const missing = ALL_CODES.filter((code) => !new RegExp(`\\|\\s*\`?${code}\`?\\s*\\|\\s*${CODES[code].severity}\\s*\\|`).test(section));
    expect(missing).toEqual([]);
  });
});
