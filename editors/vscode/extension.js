// VS Code entry point: starts `mex lsp` (the language server over stdio) for .mex files.
// Install: `npm install` in this folder, then copy or symlink the folder into ~/.vscode/extensions/
// (the grammar is read from ../textmate, so keep the editors/ folder together).
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("mex").get("server.command", "mex");
  const serverOptions = { command, args: ["lsp"], transport: TransportKind.stdio };
  const clientOptions = { documentSelector: [{ scheme: "file", language: "mex" }, { scheme: "untitled", language: "mex" }] };
  client = new LanguageClient("mex", "mex language server", serverOptions, clientOptions);
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
