/**
 * The reference spec exactly as the Part 1 issue writes it (before `mex fmt` aligned its comments) checks
 * cleanly, and specs/fashion-3exit.mex is the same model: identical IR apart from the source text.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../src/check/index.js";

const strip = (ir: object) => ({ ...ir, source: "", sourceHash: "", file: "" });

describe("the reference spec", () => {
  it("checks with no diagnostics as written in the issue, and equals specs/fashion-3exit.mex", () => {
    const asWritten = checkSource(readFileSync("test/check/fixtures/reference-as-in-issue.mex", "utf8"), "reference.mex");
    expect(asWritten.diagnostics).toEqual([]);
    const shipped = checkSource(readFileSync("specs/fashion-3exit.mex", "utf8"), "specs/fashion-3exit.mex");
    expect(strip(shipped.ir!)).toEqual(strip(asWritten.ir!));
  });
});
