/**
 * `mex check --format sarif|github`: SARIF validated against the official SARIF 2.1.0 JSON schema
 * (shipped by @microsoft/jest-sarif), GitHub workflow commands against the runner's syntax.
 */
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../src/check/index.js";
import { ALL_CODES, CODES } from "../../src/diagnostics/codes.js";
import type { FileReport } from "../../src/diagnostics/render.js";
import { artifactUri, renderSarif, sarifLog } from "../../src/diagnostics/sarif.js";
import { escapeData, escapeProperty, renderGithub } from "../../src/diagnostics/github.js";
import { extraCheckFormats } from "../../src/cli/check.js";
import "../../src/cli/fmt.js";
import { ROOT } from "./helpers.js";

const require = createRequire(import.meta.url);

/** Two errors on line 4 and 5 and a warning (unused constant) on line 2. */
const BAD = ["model m {", "  let unused = 3", "  input [8, 8, 1]", "  classes 3", "  backbone { stage s1 { covn(4) relu } }", "  exit e1 after s9 { gap dense(classes) }", "}", ""].join("\n");

function report(file: string, text: string): FileReport {
  const r = checkSource(text, file);
  return { file, diagnostics: r.diagnostics, source: r.source };
}

/** The schema is draft-04; Ajv 8 reads it once its draft-04 `id`/`$schema` header is dropped. */
function sarifValidator() {
  const schemaPath = path.join(path.dirname(require.resolve("@microsoft/jest-sarif/package.json")), "lib/schemas/sarif-2.1.0-rtm.5.json");
  const schema = JSON.parse(readFileSync(schemaPath, "utf8")) as Record<string, unknown>;
  delete schema.$schema;
  delete schema.id;
  // unicodeRegExp off: one pattern in the schema (language tags) is not valid with the u flag.
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
  ajv.addFormat("uri", (s: string) => /^[A-Za-z][A-Za-z0-9+.-]*:/.test(s));
  ajv.addFormat("uri-reference", (s: string) => !/\s/.test(s) && !s.includes("\\"));
  ajv.addFormat("date-time", (s: string) => !Number.isNaN(Date.parse(s)));
  return ajv.compile(schema);
}

describe("SARIF", () => {
  const validate = sarifValidator();
  const reports = [report("specs/bad spec.mex", BAD), report("specs/ok.mex", readFileSync(path.join(ROOT, "specs/fashion-3exit.mex"), "utf8"))];
  const log = JSON.parse(renderSarif(reports, { version: "1.2.3", cwd: ROOT })) as any;

  it("validates against the SARIF 2.1.0 schema", () => {
    const ok = validate(log);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it("rejects a broken log (the validator really validates)", () => {
    const broken = structuredClone(log);
    broken.runs[0].results[0].level = "fatal";
    expect(validate(broken)).toBe(false);
    const noUri = structuredClone(log);
    noUri.runs[0].results[0].locations[0].physicalLocation.region.startLine = 0;
    expect(validate(noUri)).toBe(false);
  });

  it("has one run, every code as a rule with its help text and level", () => {
    expect(log.version).toBe("2.1.0");
    expect(log.runs).toHaveLength(1);
    const driver = log.runs[0].tool.driver;
    expect(driver.name).toBe("mex");
    expect(driver.version).toBe("1.2.3");
    expect(driver.rules.map((r: any) => r.id)).toEqual(ALL_CODES);
    const rule = driver.rules.find((r: any) => r.id === "MEX3905");
    expect(rule.shortDescription.text).toBe(CODES.MEX3905.help);
    expect(rule.defaultConfiguration.level).toBe("warning");
  });

  it("has one result per diagnostic with rule id, level, message + hint and a 1-based region", () => {
    const results = log.runs[0].results;
    expect(results).toHaveLength(reports[0]!.diagnostics.length);
    const covn = results.find((r: any) => r.ruleId === "MEX2001");
    expect(covn.level).toBe("error");
    expect(covn.message.text).toBe("unknown layer 'covn'\nhint: did you mean 'conv'?");
    // line 5 is `  backbone { stage s1 { covn(4) relu } }`: `covn` spans columns 25..28, end exclusive 29.
    expect(covn.locations[0].physicalLocation.region).toEqual({ startLine: 5, startColumn: 25, endLine: 5, endColumn: 29 });
    expect(covn.locations[0].physicalLocation.artifactLocation.uri).toBe("specs/bad%20spec.mex");
    expect(log.runs[0].tool.driver.rules[covn.ruleIndex].id).toBe("MEX2001");
    const unused = results.find((r: any) => r.ruleId === "MEX3905");
    expect(unused?.level).toBe("warning");
  });

  it("URIs are relative with forward slashes", () => {
    expect(artifactUri(path.join(ROOT, "specs", "a.mex"), ROOT)).toBe("specs/a.mex");
    expect(artifactUri("a b/c#d.mex", ROOT)).toBe("a%20b/c%23d.mex");
  });

  it("an empty run still validates", () => {
    expect(validate(sarifLog([], { version: "0.1.0" }))).toBe(true);
  });

  it("is registered as `mex check --format sarif` and `--format github`", () => {
    expect(extraCheckFormats.has("sarif")).toBe(true);
    expect(extraCheckFormats.has("github")).toBe(true);
  });
});

describe("GitHub workflow commands", () => {
  const COMMAND = /^::(error|warning) file=([^,:]*),line=(\d+),col=(\d+),endLine=(\d+),endColumn=(\d+),title=(MEX\d{4})::(.*)$/;

  it("one command per diagnostic, matching the workflow-command syntax", () => {
    const out = renderGithub([report("specs/bad.mex", BAD)], ROOT);
    const lines = out.split("\n");
    expect(lines).toHaveLength(checkSource(BAD).diagnostics.length);
    for (const line of lines) expect(line).toMatch(COMMAND);
    const covn = lines.find((l) => l.includes("title=MEX2001"))!;
    expect(covn).toBe("::error file=specs/bad.mex,line=5,col=25,endLine=5,endColumn=29,title=MEX2001::unknown layer 'covn'%0Ahint: did you mean 'conv'?");
    expect(lines.find((l) => l.includes("title=MEX3905"))).toMatch(/^::warning /);
  });

  it("escapes data and properties as the runner expects", () => {
    expect(escapeData("100% done\r\nnext")).toBe("100%25 done%0D%0Anext");
    expect(escapeProperty("a,b:c%\n")).toBe("a%2Cb%3Ac%25%0A");
    const out = renderGithub([report("dir,x/a:b.mex", BAD)], ROOT);
    expect(out.split("\n")[0]).toContain("file=dir%2Cx/a%3Ab.mex,");
  });
});
