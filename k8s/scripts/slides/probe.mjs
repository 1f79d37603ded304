// Open the deck as a room without network would: headless chromium with every host unresolvable,
// every request recorded, screenshots of the slides asked for. Used by k8s/tests/test_slides.py:
//   MARP_MODULES=.cache/marp/node_modules CHROMIUM=/usr/bin/chromium \
//     node probe.mjs DECK.html OUT_DIR N...      -> OUT_DIR/slide-N.png for each N, a JSON report on stdout
// The report: every request's URL, the failed ones with their error, page errors, and for each slide
// the diagrams (img.diagram) on it: loaded or not, natural width, where they are drawn; the
// presenter view's notes for the first slide asked for.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.env.MARP_MODULES;
if (!modules) {
  console.error("probe.mjs: MARP_MODULES must name the node_modules folder of the pinned Marp CLI");
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(modules), "noop.js"));
const puppeteer = require("puppeteer-core"); // Marp CLI's own dependency, pinned with it

const [deck, outDir, ...slides] = process.argv.slice(2);
const url = pathToFileURL(path.resolve(deck)).href;
fs.mkdirSync(outDir, { recursive: true });

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const report = { requests: [], dataUris: 0, failed: [], errors: [], slides: {}, presenterNotes: null };
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 720 });
  // data: URIs (the inlined diagrams, the theme's icons) are counted, not listed.
  page.on("request", (r) => (r.url().startsWith("data:") ? report.dataUris++ : report.requests.push(r.url().slice(0, 200))));
  page.on("requestfailed", (r) => report.failed.push(`${r.url().slice(0, 200)}: ${r.failure()?.errorText}`));
  page.on("pageerror", (e) => report.errors.push(String(e.message || e)));
  for (const n of slides) {
    await page.goto(`${url}#${n}`, { waitUntil: "load" });
    await new Promise((done) => setTimeout(done, 800)); // the slide transition
    await page.screenshot({ path: path.join(outDir, `slide-${n}.png`) });
    report.slides[n] = await page.evaluate(() => {
      const active = document.querySelector(".bespoke-marp-active");
      return {
        active: !!active,
        diagrams: [...(active ? active.querySelectorAll("img.diagram") : [])].map((img) => {
          const box = img.getBoundingClientRect();
          return { complete: img.complete, naturalWidth: img.naturalWidth,
            box: { x: box.x, y: box.y, width: box.width, height: box.height } };
        }),
      };
    });
  }
  if (slides.length) {
    await page.goto(`${url}?view=presenter#${slides[0]}`, { waitUntil: "load" });
    await new Promise((done) => setTimeout(done, 800));
    report.presenterNotes = await page.evaluate(() =>
      [...document.querySelectorAll(".bespoke-marp-note")]
        .filter((note) => note.classList.contains("bespoke-marp-note-active") || getComputedStyle(note).display !== "none")
        .map((note) => note.textContent.trim()));
    await page.screenshot({ path: path.join(outDir, "presenter.png") });
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
