// extension.js against stand-ins for `vscode` and `vscode-languageclient/node`: it starts the
// configured command, restarts the server with the new command when the setting changes, and
// leaves it alone for other settings. Run: node tests/extension.test.js (exits 1 on failure).
"use strict";
const assert = require("node:assert/strict");
const Module = require("node:module");
const path = require("node:path");

const settings = { "server.command": ["storyc", "lsp"], debounceMs: 20 };
const listeners = [];
const errors = [];
const clients = [];

class FakeClient {
  constructor(id, name, serverOptions, clientOptions) {
    Object.assign(this, { id, serverOptions, clientOptions, state: "new" });
    clients.push(this);
  }
  async start() {
    this.state = "running";
  }
  async stop() {
    this.state = "stopped";
  }
}

const vscode = {
  window: { showErrorMessage: (message) => errors.push(message) },
  workspace: {
    getConfiguration: (section) => {
      assert.equal(section, "storyc");
      return { get: (key, fallback) => (key in settings ? settings[key] : fallback) };
    },
    onDidChangeConfiguration: (listener) => {
      listeners.push(listener);
      return { dispose() {} };
    },
  },
};

const stubs = { vscode, "vscode-languageclient/node": { LanguageClient: FakeClient } };
const load = Module._load;
Module._load = function (request, ...rest) {
  return request in stubs ? stubs[request] : load.call(this, request, ...rest);
};

async function change(...sections) {
  const event = {
    affectsConfiguration: (s) => sections.some((c) => c === s || c.startsWith(`${s}.`)),
  };
  listeners.forEach((listener) => listener(event));
  await new Promise((resolve) => setTimeout(resolve, 10));
}

async function main() {
  const extension = require(path.join(__dirname, "..", "extension.js"));
  const context = { subscriptions: [] };
  await extension.activate(context);
  assert.equal(clients.length, 1);
  assert.deepEqual(clients[0].serverOptions, { command: "storyc", args: ["lsp"] });
  assert.deepEqual(clients[0].clientOptions.initializationOptions, { debounceMs: 20 });
  assert.equal(clients[0].state, "running");
  assert.equal(context.subscriptions.length, 1, "the configuration listener is disposed with the extension");

  await change("editor.fontSize");
  assert.equal(clients.length, 1, "another setting leaves the server alone");

  settings["server.command"] = ["/opt/venv/bin/storyc", "lsp"];
  await change("storyc.server.command");
  assert.equal(clients.length, 2, "a new command starts a new server");
  assert.equal(clients[0].state, "stopped");
  assert.deepEqual(clients[1].serverOptions, { command: "/opt/venv/bin/storyc", args: ["lsp"] });
  assert.equal(clients[1].state, "running");

  settings.debounceMs = 50;
  await change("storyc.debounceMs");
  assert.equal(clients.length, 3);
  assert.equal(clients[1].state, "stopped");
  assert.deepEqual(clients[2].clientOptions.initializationOptions, { debounceMs: 50 });

  settings["server.command"] = [];
  await change("storyc.server.command");
  assert.equal(clients.length, 4);
  assert.deepEqual(clients[3].serverOptions, { command: "storyc", args: ["lsp"] });
  assert.equal(errors.length, 1, "an empty command is reported and the default is used");

  await extension.deactivate();
  assert.ok(clients.every((c) => c.state === "stopped"));
  console.log("extension.test.js: ok");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
