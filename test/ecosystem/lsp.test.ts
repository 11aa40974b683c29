/**
 * The language server over stdio, driven by a real JSON-RPC client (vscode-jsonrpc): `node bin/mex.js lsp`
 * (the built CLI; `npm test` builds first). Diagnostics with ranges, hover with shapes, completion.
 * Messages are sent by method name: vscode-languageserver-protocol bundles its own copy of vscode-jsonrpc,
 * whose message-type objects the top-level vscode-jsonrpc connection does not recognise.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from "vscode-jsonrpc/node.js";
import {
  InitializeRequest,
  InitializedNotification,
  DidOpenTextDocumentNotification,
  DidChangeTextDocumentNotification,
  PublishDiagnosticsNotification,
  HoverRequest,
  CompletionRequest,
  DocumentFormattingRequest,
  ShutdownRequest,
  ExitNotification,
  type PublishDiagnosticsParams,
  type CompletionItem,
  type MarkupContent,
  type InitializeResult,
  type Hover,
  type TextEdit,
} from "vscode-languageserver-protocol";
import { BIN, ROOT } from "./helpers.js";

const URI = "file:///tmp/doc.mex";

/** Line 3 (0-based): `covn` at characters 24..28 (end exclusive); line 4: `s9` at 16..18. */
const TWO_ERRORS = ["model m {", "  input [8, 8, 1]", "  classes 3", "  backbone { stage s1 { covn(4) relu } }", "  exit e1 after s9 { gap dense(classes) }", "}", ""].join("\n");

/** Line 6 (0-based): `    stage s1 { conv(32, kernel=3) bn relu maxpool(2) }`, conv at characters 15..33. */
const GOOD = [
  "model fashion3 {",
  "  input [28, 28, 1]",
  "  classes 10",
  "",
  "  backbone {",
  "    // three stages",
  "    stage s1 { conv(32, kernel=3) bn relu maxpool(2) }",
  "    stage s2 { conv(64, kernel=3) bn relu maxpool(2) }",
  "    stage s3 {  }",
  "  }",
  "",
  "  exit e1 after s1 { conv(32, kernel=3, stride=2) bn relu gap dense(classes) }",
  "  exit e2 after s2 { gap dense(classes) }",
  "  exit e3 after s3 { gap dense(classes) }",
  "  distill {",
  "    ",
  "  }",
  "}",
  "",
].join("\n");

let proc: ChildProcess;
let connection: MessageConnection;
const diagnostics = new Map<string, PublishDiagnosticsParams[]>();
let waiters: (() => void)[] = [];

function nextDiagnostics(uri: string, version: number): Promise<PublishDiagnosticsParams> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no diagnostics for ${uri} v${version}`)), 20_000);
    const poll = () => {
      const found = (diagnostics.get(uri) ?? []).find((d) => d.version === version);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      } else waiters.push(poll);
    };
    poll();
  });
}

beforeAll(async () => {
  proc = spawn(process.execPath, [BIN, "lsp", "--stdio"], { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
  connection = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  connection.onNotification(PublishDiagnosticsNotification.method, (params: PublishDiagnosticsParams) => {
    diagnostics.set(params.uri, [...(diagnostics.get(params.uri) ?? []), params]);
    const pending = waiters;
    waiters = [];
    pending.forEach((w) => w());
  });
  connection.listen();
  const init = await connection.sendRequest<InitializeResult>(InitializeRequest.method, { processId: process.pid, rootUri: null, capabilities: {}, workspaceFolders: null });
  expect(init.capabilities.hoverProvider).toBe(true);
  expect(init.capabilities.completionProvider).toBeDefined();
  await connection.sendNotification(InitializedNotification.method, {});
}, 60_000);

afterAll(async () => {
  try {
    await connection.sendRequest(ShutdownRequest.method);
    await connection.sendNotification(ExitNotification.method);
  } finally {
    connection.dispose();
    await new Promise<void>((resolve) => {
      if (proc.exitCode !== null) return resolve();
      const timer = setTimeout(() => {
        proc.kill();
        resolve();
      }, 5000);
      proc.on("exit", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
});

describe("mex lsp over stdio", () => {
  it("publishes both errors of a document with the right ranges", async () => {
    await connection.sendNotification(DidOpenTextDocumentNotification.method, { textDocument: { uri: URI, languageId: "mex", version: 1, text: TWO_ERRORS } });
    const published = await nextDiagnostics(URI, 1);
    const byCode = new Map(published.diagnostics.map((d) => [d.code, d]));
    expect(byCode.get("MEX2001")?.range).toEqual({ start: { line: 3, character: 24 }, end: { line: 3, character: 28 } });
    expect(byCode.get("MEX2001")?.severity).toBe(1);
    expect(byCode.get("MEX2001")?.message).toContain("unknown layer 'covn'");
    expect(byCode.get("MEX2006")?.range).toEqual({ start: { line: 4, character: 16 }, end: { line: 4, character: 18 } });
    expect(published.diagnostics.every((d) => d.source === "mex")).toBe(true);
  }, 30_000);

  it("updates diagnostics on change (fixing both errors leaves none)", async () => {
    const fixed = TWO_ERRORS.replace("covn", "conv").replace("after s9", "after s1");
    await connection.sendNotification(DidChangeTextDocumentNotification.method, { textDocument: { uri: URI, version: 2 }, contentChanges: [{ text: fixed }] });
    const published = await nextDiagnostics(URI, 2);
    expect(published.diagnostics).toEqual([]);
  }, 30_000);

  it("hover over a conv layer returns its output shape, params and MACs", async () => {
    const uri = "file:///tmp/good.mex";
    const text = GOOD.replace("stage s3 {  }", "stage s3 { conv(128, kernel=3) bn relu }").replace("    \n", "    teachers: last\n");
    await connection.sendNotification(DidOpenTextDocumentNotification.method, { textDocument: { uri, languageId: "mex", version: 1, text } });
    expect((await nextDiagnostics(uri, 1)).diagnostics).toEqual([]);
    const hover = await connection.sendRequest<Hover | null>(HoverRequest.method, { textDocument: { uri }, position: { line: 6, character: 17 } });
    const value = (hover?.contents as MarkupContent).value;
    // conv(32, kernel=3) on [28, 28, 1], same padding: [28, 28, 32]; params 3*3*1*32 + 32 = 320;
    // MACs 28*28*32*9 = 225,792.
    expect(value).toContain("**conv** `s1/conv`");
    expect(value).toContain("output `[28, 28, 32]` from input `[28, 28, 1]`");
    expect(value).toContain("params 320 · MACs 225,792");
    expect(hover?.range).toEqual({ start: { line: 6, character: 15 }, end: { line: 6, character: 33 } });
    // On an exit name: cumulative MACs and the fraction of the last exit (677,696 / 7,452,416 = 9.1%).
    const exitHover = await connection.sendRequest<Hover | null>(HoverRequest.method, { textDocument: { uri }, position: { line: 11, character: 8 } });
    expect((exitHover?.contents as MarkupContent).value).toContain("cumulative MACs 677,696 (678K), **9.1%** of the last exit");
  }, 30_000);

  it("completion inside a stage offers layers; inside parentheses, parameters; in sections, options and values", async () => {
    const uri = "file:///tmp/complete.mex";
    await connection.sendNotification(DidOpenTextDocumentNotification.method, { textDocument: { uri, languageId: "mex", version: 1, text: GOOD } });
    await nextDiagnostics(uri, 1);
    const labels = async (line: number, character: number) => {
      const items = (await connection.sendRequest<CompletionItem[]>(CompletionRequest.method, { textDocument: { uri }, position: { line, character } })) as CompletionItem[];
      return items.map((i) => i.label);
    };
    // Inside `stage s3 {  }` (line 8, between the braces).
    const inStage = await labels(8, 16);
    expect(inStage).toContain("conv");
    expect(inStage).toContain("maxpool");
    expect(inStage).toContain("residual");
    // Inside `conv(32, kernel=3)` after the comma (line 6, character 23).
    const inConv = await labels(6, 24);
    expect(inConv).toEqual(expect.arrayContaining(["filters", "kernel", "stride", "padding", "groups", "bias"]));
    // In the distill section's empty line: its option keys.
    expect(await labels(15, 4)).toEqual(["teachers", "weight", "temperature"]);
    // In the backbone: stage.
    expect(await labels(9, 2)).toContain("stage");
  }, 30_000);

  it("completion after a section key offers its values", async () => {
    const uri = "file:///tmp/values.mex";
    const text = GOOD.replace("    \n", "    teachers: \n");
    await connection.sendNotification(DidOpenTextDocumentNotification.method, { textDocument: { uri, languageId: "mex", version: 1, text } });
    await nextDiagnostics(uri, 1);
    const items = (await connection.sendRequest<CompletionItem[]>(CompletionRequest.method, { textDocument: { uri }, position: { line: 15, character: 14 } })) as CompletionItem[];
    expect(items.map((i) => i.label)).toEqual(expect.arrayContaining(["last", "later", "none"]));
  }, 30_000);

  it("formats a document", async () => {
    const uri = "file:///tmp/fmt.mex";
    await connection.sendNotification(DidOpenTextDocumentNotification.method, { textDocument: { uri, languageId: "mex", version: 1, text: "model m{input [4]\nclasses 2}" } });
    await nextDiagnostics(uri, 1);
    const edits = await connection.sendRequest<TextEdit[]>(DocumentFormattingRequest.method, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
    expect(edits).toEqual([{ range: { start: { line: 0, character: 0 }, end: { line: 1, character: 10 } }, newText: "model m {\n  input [4]\n  classes 2\n}\n" }]);
  }, 30_000);
});
