/**
 * The mex language server (LSP over stdio): diagnostics on open/change, hover (shape, params and
 * MACs of the layer under the cursor; cumulative cost of an exit), completion (layers, parameters,
 * section options and values) and whole-document formatting. Built on the same checker as the CLI.
 */
import lsp from "vscode-languageserver/node.js";
import { TextDocument } from "vscode-languageserver-textdocument";
import { fileURLToPath } from "node:url";
import { checkSource, type CheckResult } from "../check/index.js";
import { parse } from "../syntax/parse.js";
import { formatSource } from "../format/format.js";
import { completionsAt, hoverAt, toLspDiagnostic, toOffset } from "./analysis.js";

const { createConnection, TextDocuments, ProposedFeatures, TextDocumentSyncKind, MarkupKind } = lsp;

/** A readable file name for diagnostics: the path for file: URIs, the URI otherwise. */
function fileLabel(uri: string): string {
  try {
    return uri.startsWith("file:") ? fileURLToPath(uri) : uri;
  } catch {
    return uri;
  }
}

export interface ServerOptions {
  /** Streams to talk over; default: the process's stdin/stdout. */
  readonly input?: NodeJS.ReadableStream;
  readonly output?: NodeJS.WritableStream;
}

/** Start the server; resolves when the client has shut it down and the connection has closed. */
export function startServer(options: ServerOptions = {}): Promise<void> {
  const connection =
    options.input && options.output
      ? createConnection(ProposedFeatures.all, new lsp.StreamMessageReader(options.input), new lsp.StreamMessageWriter(options.output))
      : createConnection(ProposedFeatures.all, new lsp.StreamMessageReader(process.stdin), new lsp.StreamMessageWriter(process.stdout));
  const documents = new TextDocuments(TextDocument);
  /** Latest check per document version (hover and completion reuse it). */
  const cache = new Map<string, { version: number; result: CheckResult }>();

  const check = (doc: TextDocument): CheckResult => {
    const hit = cache.get(doc.uri);
    if (hit && hit.version === doc.version) return hit.result;
    const result = checkSource(doc.getText(), fileLabel(doc.uri));
    cache.set(doc.uri, { version: doc.version, result });
    return result;
  };

  connection.onInitialize(() => ({
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      completionProvider: { triggerCharacters: ["(", ",", " ", ":", "=", "{"] },
      documentFormattingProvider: true,
    },
    serverInfo: { name: "mex" },
  }));

  documents.onDidChangeContent(({ document }) => {
    const result = check(document);
    void connection.sendDiagnostics({ uri: document.uri, version: document.version, diagnostics: result.diagnostics.map((d) => toLspDiagnostic(d, result.source)) });
  });
  documents.onDidClose(({ document }) => {
    cache.delete(document.uri);
    void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
  });

  connection.onHover(({ textDocument, position }) => {
    const doc = documents.get(textDocument.uri);
    if (!doc) return null;
    const result = check(doc);
    const hover = hoverAt(result, toOffset(result.source, position));
    return hover ? { contents: { kind: MarkupKind.Markdown, value: hover.contents }, range: hover.range } : null;
  });

  connection.onCompletion(({ textDocument, position }) => {
    const doc = documents.get(textDocument.uri);
    if (!doc) return [];
    const text = doc.getText();
    const offset = doc.offsetAt(position);
    const ast = parse(text, fileLabel(doc.uri)).ast;
    return completionsAt(text, offset, ast).map((c) => ({
      label: c.label,
      kind: c.kind as lsp.CompletionItemKind,
      ...(c.detail ? { detail: c.detail } : {}),
      ...(c.documentation ? { documentation: { kind: MarkupKind.Markdown, value: c.documentation } } : {}),
      ...(c.insertText ? { insertText: c.insertText } : {}),
    }));
  });

  connection.onDocumentFormatting(({ textDocument }) => {
    const doc = documents.get(textDocument.uri);
    if (!doc) return [];
    const formatted = formatSource(doc.getText(), fileLabel(doc.uri));
    // Files with syntax errors are left alone; the diagnostics already say why.
    if (!formatted.ok || !formatted.changed) return [];
    return [{ range: { start: { line: 0, character: 0 }, end: doc.positionAt(doc.getText().length) }, newText: formatted.text }];
  });

  documents.listen(connection);
  return new Promise((resolve) => {
    connection.onExit(() => resolve());
    connection.listen();
  });
}
