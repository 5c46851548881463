// After `esbuild --metafile`: writes dist/THIRD-PARTY-NOTICES.txt with the name, version and
// licence text of every package bundled into dist/extension.js (their licences ask for it).
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const meta = JSON.parse(fs.readFileSync(path.join(__dirname, "dist", "meta.json"), "utf8"));
const packages = new Set();
for (const input of Object.keys(meta.inputs)) {
  const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (match) packages.add(match[1]);
}
const sections = [...packages].sort().map((dir) => {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, dir, "package.json"), "utf8"));
  const licence = fs.readdirSync(path.join(__dirname, dir)).find((f) => /^licen[cs]e/i.test(f));
  if (!licence) throw new Error(`${manifest.name} has no licence file to copy`);
  const text = fs.readFileSync(path.join(__dirname, dir, licence), "utf8").trim();
  return `${manifest.name} ${manifest.version} (${manifest.license})\n\n${text}\n`;
});
const header = "dist/extension.js bundles these packages; their licences follow.\n";
fs.writeFileSync(
  path.join(__dirname, "dist", "THIRD-PARTY-NOTICES.txt"),
  [header, ...sections].join(`\n${"-".repeat(78)}\n\n`),
);
console.log(`dist/THIRD-PARTY-NOTICES.txt: ${sections.length} packages`);
