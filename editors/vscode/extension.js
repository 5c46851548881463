// Starts `storyc lsp` (see package.json `storyc.server.command`) for .story files.
const { workspace } = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate() {
  const config = workspace.getConfiguration("storyc");
  const [command, ...args] = config.get("server.command", ["storyc", "lsp"]);
  client = new LanguageClient(
    "storyc",
    "storyc",
    { command, args },
    {
      documentSelector: [
        { scheme: "file", language: "story" },
        { scheme: "untitled", language: "story" },
      ],
      initializationOptions: { debounceMs: config.get("debounceMs", 20) },
    },
  );
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
