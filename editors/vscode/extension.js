// Starts `storyc lsp` (see package.json `storyc.server.command`) for .story files, and starts
// it again, with the new settings, when `storyc.server.command` or `storyc.debounceMs` change.
const { window, workspace } = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

const DEFAULT_COMMAND = ["storyc", "lsp"];
const RESTART_ON = ["storyc.server.command", "storyc.debounceMs"];

let client;
// Restarts run one after another, so quick successive edits of the setting end with one
// server, started with the last value.
let pending = Promise.resolve();

function serverCommand(config) {
  const command = config.get("server.command", DEFAULT_COMMAND);
  if (Array.isArray(command) && command.length > 0 && command.every((a) => typeof a === "string" && a)) {
    return command;
  }
  window.showErrorMessage(
    `storyc.server.command should be a list of strings such as ${JSON.stringify(DEFAULT_COMMAND)}; ` +
      "using the default.",
  );
  return DEFAULT_COMMAND;
}

function createClient() {
  const config = workspace.getConfiguration("storyc");
  const [command, ...args] = serverCommand(config);
  return new LanguageClient(
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
}

async function stopClient() {
  const running = client;
  client = undefined;
  if (running) {
    try {
      await running.stop();
    } catch {
      // The old server had already exited (or never started): nothing to stop.
    }
  }
}

async function restart() {
  await stopClient();
  client = createClient();
  await client.start();
}

function activate(context) {
  context.subscriptions.push(
    workspace.onDidChangeConfiguration((event) => {
      if (!RESTART_ON.some((section) => event.affectsConfiguration(section))) {
        return;
      }
      pending = pending
        .then(restart)
        .catch((error) =>
          window.showErrorMessage(`storyc: the language server did not start: ${error.message || error}`),
        );
    }),
  );
  client = createClient();
  return client.start();
}

function deactivate() {
  return pending.then(stopClient);
}

module.exports = { activate, deactivate };
