// What the browser tests share: the browser, opening a page while
// recording its console errors, screenshots and the accessibility check.
// Set by the e2e tests that start the host:
//   CLOUDFN_URL          the host's base URL (http://127.0.0.1:PORT)
//   CLOUDFN_SCREENSHOTS  where each page's screenshot goes
//   CLOUDFN_CHROMIUM     the browser (default /usr/bin/chromium)
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

export const BASE = process.env.CLOUDFN_URL;
const SHOTS = process.env.CLOUDFN_SCREENSHOTS;
const CHROMIUM = process.env.CLOUDFN_CHROMIUM || "/usr/bin/chromium";
assert.ok(BASE && SHOTS, "CLOUDFN_URL and CLOUDFN_SCREENSHOTS are set");
mkdirSync(SHOTS, { recursive: true });

export let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root in CI there is no sandbox to enter; the machine's network is
    // closed, so Chromium's own background traffic is switched off.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});
after(async () => { await browser?.close(); });

/** Opens `path` in a fresh context, recording console errors and page errors. */
export async function open(path, { allow = [] } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !allow.some((re) => re.test(m.text()))) problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  const response = await page.goto(BASE + path);
  return { page, context, problems, response };
}

/** Closes the page's context after checking that nothing went wrong on it. */
export async function finish({ context, problems }, name) {
  assert.deepEqual(problems, [], `${name}: no console errors`);
  await context.close();
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

/**
 * Every form control has a label, and axe-core finds no WCAG 2 A or AA
 * violation (contrast, names, roles, landmarks…) in the page as it is now.
 */
export async function assertAccessible(page) {
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll("input, select, textarea")]
    .filter((e) => !e.labels?.length && !e.getAttribute("aria-label"))
    .map((e) => e.id || e.outerHTML));
  assert.deepEqual(unlabelled, [], "every control is labelled");
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const result = await axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
  assert.deepEqual(violations, [], "axe-core finds no WCAG 2.1 A/AA violation");
}

