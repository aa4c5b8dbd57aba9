#!/usr/bin/env node
// Compiles contracts/src with the pinned solcjs (package.json) using a fixed
// standard-JSON input and writes contracts/build/<Contract>.abi and .bin.
// Output is byte-identical across machines: optimizer settings, evmVersion
// and import paths are fixed, and the metadata hash / CBOR trailer is off.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const solc = require("solc");

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const srcDir = path.join(root, "src");
const buildDir = path.join(root, "build");

// Contracts whose artifacts are emitted (and bound in Go).
const CONTRACTS = ["NROSettlement", "WrappedNRO"];

const sources = {};
for (const f of fs.readdirSync(srcDir).filter((f) => f.endsWith(".sol")).sort()) {
  sources[`src/${f}`] = { content: fs.readFileSync(path.join(srcDir, f), "utf8") };
}

const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    viaIR: false,
    metadata: { bytecodeHash: "none", appendCBOR: false },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};

function findImports(p) {
  const candidates = [path.join(root, "node_modules", p), path.join(root, p)];
  for (const c of candidates) {
    if (fs.existsSync(c)) return { contents: fs.readFileSync(c, "utf8") };
  }
  return { error: `import not found: ${p}` };
}

const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
let failed = false;
for (const e of out.errors ?? []) {
  process.stderr.write(e.formattedMessage + "\n");
  if (e.severity === "error") failed = true;
}
if (failed) process.exit(1);

fs.mkdirSync(buildDir, { recursive: true });
for (const name of CONTRACTS) {
  const c = out.contracts[`src/${name}.sol`]?.[name];
  if (!c) {
    process.stderr.write(`contract ${name} not found in output\n`);
    process.exit(1);
  }
  fs.writeFileSync(path.join(buildDir, `${name}.abi`), JSON.stringify(c.abi, null, 2) + "\n");
  fs.writeFileSync(path.join(buildDir, `${name}.bin`), c.evm.bytecode.object + "\n");
}
console.log(`compiled with solc ${solc.version()}: ${CONTRACTS.join(", ")}`);
