// Compiles Solidity sources with the pinned solc (package.json) and prints solc's standard JSON
// output. Input on stdin: {"sources": {"Name.sol": "source text", ...}}. Imports of
// "@openzeppelin/..." resolve to this folder's node_modules; settings are fixed here so that
// every build of the same sources gives the same bytecode.
"use strict";
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  viaIR: true,
  evmVersion: "cancun",
  // No metadata hash: the bytecode then depends on the sources and these settings only.
  metadata: { bytecodeHash: "none" },
  outputSelection: {
    "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] },
  },
};

function findImport(p) {
  const file = path.join(__dirname, "node_modules", p);
  if (!p.startsWith("@openzeppelin/") || !fs.existsSync(file)) {
    return { error: `import not found: ${p} (run \`npm ci\` in ${__dirname})` };
  }
  return { contents: fs.readFileSync(file, "utf8") };
}

const request = JSON.parse(fs.readFileSync(0, "utf8"));
const input = {
  language: "Solidity",
  sources: Object.fromEntries(
    Object.entries(request.sources).map(([name, content]) => [name, { content }]),
  ),
  settings: SETTINGS,
};
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
output.compiler = solc.version();
process.stdout.write(JSON.stringify(output));
const failed = (output.errors || []).some((e) => e.severity === "error");
process.exit(failed ? 1 : 0);
