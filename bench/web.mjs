#!/usr/bin/env node
// The web tier's weight and first render, measured in Debian's Chromium on
// loopback (not run in CI):
//
// 1. the whole front end's weight: every page and every asset it names,
//    plain and as sent gzip-compressed (target: under 300 KB compressed);
// 2. the home page, cold (a fresh browser context, nothing cached): bytes
//    transferred for the page and its assets, time to first contentful
//    paint and to the load event, median over RUNS;
// 3. the anchor, in the same run: the very same bytes and headers from a
//    plain Node.js static server (which passes the page's function probes
//    on to the same cloudfn up), so what a wasm instance per page and
//    asset request adds to the first render shows;
// 4. the home page warm (a reload in the same context): what is transferred
//    when the page revalidates with its ETag and the assets come from cache.
//
// Needs a release build of the host and the components
// (`cargo run --release -p cloudfn -- build`), Chromium and the npm
// packages of tests/browser (`npm ci --prefix tests/browser`).
// Usage: node bench/web.mjs [RUNS]
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createServer, get as httpGet, request as httpRequest } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(join(ROOT, "tests/browser/package.json"));
const { chromium } = require("playwright-core");
const RUNS = Number(process.argv[2] || 20);
// The page measured (the home page by default).
const HOME = process.env.PAGE || "/";
const PAGES = ["/", "/image-lab", "/drive", "/inverted-index", "/sentiment-dashboard", "/404"];

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;

/** Starts `cloudfn up` on a free port with a throwaway data directory. */
function startHost(data) {
  const host = spawn(join(ROOT, "target/release/cloudfn"),
    ["up", "-f", join(ROOT, "spin.toml"), "--listen", "127.0.0.1:0", "--data-dir", data],
    { stdio: ["ignore", "pipe", "ignore"] });
  return new Promise((resolve, reject) => {
    host.on("exit", (code) => reject(new Error(`cloudfn up exited with ${code}`)));
    host.stdout.on("data", (chunk) => {
      const match = /Serving (http:\/\/\S+)/.exec(chunk.toString());
      if (match) resolve({ host, url: match[1] });
    });
  });
}

/** Every page and asset, as the web component sends them gzip-compressed. */
async function frontEnd(base) {
  const files = new Map();
  // node:http, not fetch: fetch would decompress, and the bytes sent are the point.
  const get = (path) => new Promise((resolve, reject) => {
    httpGet(base + path, { headers: { "accept-encoding": "gzip" } }, (response) => {
      const chunks = [];
      response.on("data", (c) => chunks.push(c));
      response.on("end", () => {
        const body = Buffer.concat(chunks);
        const { date, "content-length": length, connection, "keep-alive": keepAlive, ...headers } = response.headers;
        const gzipped = headers["content-encoding"] === "gzip";
        resolve({ status: response.statusCode, headers, body, plain: gzipped ? gunzipSync(body) : body });
      });
    }).on("error", reject);
  });
  for (const page of PAGES) {
    const file = await get(page);
    files.set(page, file);
    for (const [, asset] of file.plain.toString().matchAll(/"(\/assets\/[^"]+)"/g)) {
      if (!files.has(asset)) files.set(asset, await get(asset));
    }
  }
  return files;
}

/**
 * A plain static server answering with the recorded bytes and headers, and
 * passing every other request (the home page's function probes) on to
 * `backend`, so both sides do the same work but for serving the pages.
 */
function staticServer(files, backend) {
  const server = createServer((request, response) => {
    const file = files.get(request.url.split("?")[0]);
    if (!file) {
      const upstream = httpRequest(backend + request.url, { method: request.method, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode, answer.headers);
        answer.pipe(response);
      });
      request.pipe(upstream);
      return;
    }
    if (request.headers["if-none-match"] === file.headers.etag) {
      response.writeHead(304, { etag: file.headers.etag, "cache-control": file.headers["cache-control"] });
      response.end();
      return;
    }
    response.writeHead(file.status, { ...file.headers, "content-length": file.body.length });
    response.end(file.body);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** Loads `url` in a fresh context: bytes transferred and paint/load times. */
async function coldLoad(browser, url, reload = false) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url, { waitUntil: "load" });
  if (reload) await page.reload({ waitUntil: "load" });
  await page.waitForFunction(() => performance.getEntriesByName("first-contentful-paint").length);
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const assets = performance.getEntriesByType("resource").filter((r) => new URL(r.name).pathname.startsWith("/assets/"));
    return {
      fcp: performance.getEntriesByName("first-contentful-paint")[0].startTime,
      html: nav.responseEnd - nav.requestStart,
      load: nav.loadEventStart,
      transferred: nav.transferSize + assets.reduce((n, r) => n + r.transferSize, 0),
      encoded: nav.encodedBodySize + assets.reduce((n, r) => n + r.encodedBodySize, 0),
      requests: 1 + assets.length,
    };
  });
  await context.close();
  return timing;
}

/** Medians of the runs' figures. */
function summary(runs) {
  const of = (key) => median(runs.map((r) => r[key]));
  return { fcp: of("fcp"), html: of("html"), load: of("load"), transferred: of("transferred"), encoded: of("encoded"), requests: runs[0].requests };
}

const data = mkdtempSync(join(tmpdir(), "cloudfn-web-bench-"));
const { host, url } = await startHost(data);
const browser = await chromium.launch({
  executablePath: process.env.CLOUDFN_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const files = await frontEnd(url);
  let plain = 0, sent = 0;
  console.log("## The whole front end (every page and asset)\n");
  console.log("| file | plain | sent (gzip) |\n|---|---:|---:|");
  for (const [path, file] of files) {
    plain += file.plain.length;
    sent += file.body.length;
    console.log(`| \`${path}\` | ${kb(file.plain.length)} | ${kb(file.body.length)} |`);
  }
  console.log(`| **total, ${files.size} files** | **${kb(plain)}** | **${kb(sent)}** |\n`);

  const anchor = await staticServer(files, url);
  const anchorUrl = `http://127.0.0.1:${anchor.address().port}`;
  const targets = [["cloudfn up (web component)", url], ["static Node.js server, same bytes", anchorUrl]];
  const runs = targets.map(() => ({ cold: [], warm: [] }));
  for (const [, base] of targets) await coldLoad(browser, `${base}${HOME}`); // warm-up
  // Interleaved, so drift hits both alike.
  for (let i = 0; i < RUNS; i++) {
    for (const [t, [, base]] of targets.entries()) {
      runs[t].cold.push(await coldLoad(browser, `${base}${HOME}`));
      runs[t].warm.push(await coldLoad(browser, `${base}${HOME}`, true));
    }
  }
  const rows = targets.map(([label], t) => [label, summary(runs[t].cold), summary(runs[t].warm)]);
  anchor.close();
  console.log(`## Home page on loopback, median of ${RUNS} loads in a fresh context\n`);
  console.log("| served by | requests | transferred, cold | HTML request → last byte | first contentful paint | load event | transferred, reload |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const [label, cold, warm] of rows) {
    console.log(`| ${label} | ${cold.requests} | ${kb(cold.transferred)} (bodies ${kb(cold.encoded)}) | ` +
      `${cold.html.toFixed(2)} ms | ${cold.fcp.toFixed(1)} ms | ${cold.load.toFixed(1)} ms | ${kb(warm.transferred)} |`);
  }
} finally {
  await browser.close();
  host.kill();
  rmSync(data, { recursive: true, force: true });
}
