// Render mermaid definitions to SVG and PNG with one browser for all of them (launching chromium
// once per diagram would triple `make diagrams`). Called by diagrams.py, which extracts the blocks
// from the READMEs:  node render.mjs PUPPETEER_CONFIG FILE.mmd...  -> FILE.svg and FILE.png.
// A definition that does not parse is reported with its file name and makes the exit status 1.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

// mermaid-cli and puppeteer live in .cache/mermaid (npm ci), not next to this file.
const modules = process.env.MERMAID_MODULES;
if (!modules) {
  console.error("render.mjs: MERMAID_MODULES must name the node_modules folder of the pinned mermaid-cli");
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(modules), "noop.js"));
const { renderMermaid } = await import(require.resolve("@mermaid-js/mermaid-cli"));
const { default: puppeteer } = await import(require.resolve("puppeteer"));

const [configFile, ...inputs] = process.argv.slice(2);
const config = JSON.parse(fs.readFileSync(configFile, "utf-8"));
// The config names Debian's chromium; CHROMIUM (set by the Makefile) may name another build.
if (process.env.CHROMIUM) config.executablePath = process.env.CHROMIUM;
// Twice the CSS pixel density: the PNGs go on slides and projectors.
const options = { backgroundColor: "white", viewport: { width: 1200, height: 800, deviceScaleFactor: 2 } };

const browser = await puppeteer.launch(config);
let failed = 0;
try {
  for (const input of inputs) {
    const definition = fs.readFileSync(input, "utf-8");
    const base = input.replace(/\.mmd$/, "");
    try {
      for (const format of ["svg", "png"]) {
        const { data } = await renderMermaid(browser, definition, format, options);
        fs.writeFileSync(`${base}.${format}`, data);
      }
      console.log(`rendered ${path.relative(process.cwd(), base)}.svg and .png`);
    } catch (err) {
      failed += 1;
      console.error(`${input}: ${String(err.message || err).split("\n").slice(0, 4).join(" | ")}`);
    }
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
