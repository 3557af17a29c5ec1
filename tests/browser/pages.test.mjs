// The web tier in a real browser: Playwright (playwright-core) driving
// Debian's Chromium against a running `cloudfn up` whose drive is
// anonymous. Run by the e2e test `web::every_page_works_in_a_real_browser`,
// which starts the host and sets, besides what support.mjs reads:
//   CLOUDFN_IMAGE        a real JPEG photo to upload
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { BASE, browser, open, finish, screenshot, assertAccessible } from "./support.mjs";

const IMAGE = process.env.CLOUDFN_IMAGE;
assert.ok(IMAGE, "CLOUDFN_IMAGE is set");

/** The width and height of a PNG (from IHDR) or a JPEG (from SOF). */
function dimensions(bytes) {
  if (bytes.subarray(1, 4).toString() === "PNG") return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
  assert.equal(bytes.readUInt16BE(0), 0xffd8, "a PNG or a JPEG");
  for (let i = 2; i < bytes.length;) {
    const marker = bytes[i + 1];
    if (marker >= 0xc0 && marker <= 0xc2) return [bytes.readUInt16BE(i + 7), bytes.readUInt16BE(i + 5)];
    i += 2 + bytes.readUInt16BE(i + 2);
  }
  throw new Error("no SOF marker");
}

/** A valid PNG header claiming 100000×100000 pixels (no pixel data needed). */
function hugePng() {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(100000, 0);
  ihdr.writeUInt32BE(100000, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr), chunk("IDAT", Buffer.alloc(0)), chunk("IEND", Buffer.alloc(0))]);
}

test("home: every HTTP function answers, the consumers are listed", async () => {
  const opened = await open("/");
  const { page } = opened;
  assert.equal(opened.response.status(), 200);
  for (const name of ["image-filter", "blob-upload", "index-map", "index-reduce", "sentiment", "social-listener"]) {
    await page.locator(`tr[data-function="${name}"] .badge.ok`).waitFor();
  }
  assert.equal(await page.locator(".badge.error").count(), 0);
  assert.equal(await page.locator("tr[data-function='social-consumer']").innerText().then((t) => t.includes("event-triggered")), true);
  await assertAccessible(page);
  await screenshot(page, "home");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Skip to content");
  await finish(opened, "home");
});

test("image lab: a pipeline on a real photo, downloaded, saved, and a 413 in words", async () => {
  const opened = await open("/image-lab", { allow: [/status of 413/] });
  const { page } = opened;
  await page.locator("#op option[value='resize']").waitFor({ state: "attached" });
  await page.setInputFiles("#file", IMAGE);
  await page.selectOption("#op", "grayscale");
  await page.click("#add");
  await page.selectOption("#op", "resize");
  await page.click("#add");
  await page.getByLabel("width (1–").fill("120");
  await page.getByLabel("height (1–").fill("90");
  await page.getByLabel("fit").selectOption("fill");
  await page.selectOption("#format", "png");
  assert.equal(await page.locator("#query").innerText(), "ops=grayscale,resize:120x90:fill&format=png");
  await page.click("#apply");
  await page.locator("#status.ok").waitFor();
  assert.match(await page.locator("#after-caption").innerText(), /^image\/png: 120×90/);

  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
  const bytes = readFileSync(await download.path());
  assert.deepEqual(dimensions(bytes), [120, 90], "the downloaded image is 120×90");
  assert.equal(bytes.subarray(1, 4).toString(), "PNG");
  assert.match(download.suggestedFilename(), /-filtered\.png$/);

  await page.click("#save");
  await page.locator("#save-status.ok").waitFor();
  const key = (await page.locator("#save-status").innerText()).match(/Saved as (\S+)\./)[1];
  const stored = await fetch(`${BASE}/blobs/${key}`);
  assert.equal(stored.status, 200);
  assert.deepEqual(Buffer.from(await stored.arrayBuffer()), bytes, "the drive holds the same bytes");
  await assertAccessible(page);
  await screenshot(page, "image-lab");

  await page.setInputFiles("#file", { name: "huge.png", mimeType: "image/png", buffer: hugePng() });
  await page.click("#apply");
  await page.locator("#status.error").waitFor();
  assert.match(await page.locator("#status").innerText(),
    /^This image is larger than the 50-megapixel limit \(it has 10,000 megapixels\)\.$/);
  await finish(opened, "image lab");
});

test("drive: upload several files with progress, page, download, delete", async () => {
  const opened = await open("/drive");
  const { page } = opened;
  await page.fill("#prefix", "browser-test");
  await page.click("#goto button[type=submit]");
  await page.locator("#crumbs a[data-prefix='browser-test/']").waitFor();
  const files = Array.from({ length: 11 }, (_, i) => ({
    name: `note-${String(i).padStart(2, "0")}.txt`, mimeType: "text/plain",
    buffer: Buffer.from(`note ${i}\n`.repeat(1000 * (i + 1))),
  }));
  await page.selectOption("#limit", "10");
  await page.setInputFiles("#files", files);
  await page.locator("#uploads li[data-done]").nth(10).waitFor();
  assert.equal(await page.locator("#uploads li[data-done='ok']").count(), 11);
  assert.equal(await page.locator("#uploads progress").evaluateAll((bars) => bars.every((b) => b.value === 1)), true);

  await page.locator("#listing tr[data-key]").nth(9).waitFor();
  assert.equal(await page.locator("#listing tr[data-key]").count(), 10, "a page of 10");
  const first = files[0];
  const row = page.locator(`tr[data-key='browser-test/${first.name}']`);
  assert.equal(await row.locator("td.mono").getAttribute("title"),
    createHash("sha256").update(first.buffer).digest("hex"), "the checksum shown is the file's");
  assert.match(await row.locator("td.num").innerText(), /^6\.8 KiB$/);

  const [download] = await Promise.all([page.waitForEvent("download"), row.getByRole("link", { name: `Download ${first.name}` }).click()]);
  assert.deepEqual(readFileSync(await download.path()), first.buffer, "the download is the upload");
  await assertAccessible(page);
  await screenshot(page, "drive");

  await page.click("#next");
  await page.locator(`tr[data-key='browser-test/${files[10].name}']`).waitFor();
  assert.equal(await page.locator("#listing tr[data-key]").count(), 1, "the second page holds the 11th file");
  page.once("dialog", (dialog) => {
    assert.match(dialog.message(), /^Delete browser-test\/note-10\.txt\?/);
    dialog.accept();
  });
  await page.getByRole("button", { name: `Delete ${files[10].name}` }).click();
  await page.locator("#status", { hasText: "Deleted browser-test/note-10.txt." }).waitFor();
  assert.equal((await fetch(`${BASE}/blobs/browser-test/${files[10].name}`)).status, 404);

  await page.selectOption("#limit", "200");
  await page.locator("#crumbs a[data-prefix='']").click();
  await page.locator("#listing tr[data-folder='browser-test/']").waitFor();
  // The image lab saved an image: the storage event pipeline made its thumbnail.
  for (let tries = 0; !(await page.locator("#listing tr[data-folder='thumbnails/']").count()); tries++) {
    assert.ok(tries < 50, "a thumbnails/ folder appears within 10 s");
    await page.waitForTimeout(200);
    await page.click("#reload");
    await page.locator("#status.ok").waitFor();
  }
  assert.match(await page.locator("#status").innerText(), /^0 files and 3 folders in the drive on this page\.$/);
  await finish(opened, "drive");
});

test("index: documents in, postings with term frequencies out", async () => {
  const opened = await open("/inverted-index");
  const { page } = opened;
  await page.click("#sample");
  await page.setInputFiles("#files", { name: "extra notes.txt", mimeType: "text/plain", buffer: Buffer.from("The fox, again.\nAnd the FOX once more.") });
  await page.locator("#file-list li").waitFor();
  await page.click("#build");
  await page.locator("#status.ok").waitFor();
  assert.match(await page.locator("#status").innerText(), /^Indexed 4 documents/);
  await page.fill("#word", "Fox");
  await page.press("#word", "Enter");
  await page.locator("#result table").waitFor();
  assert.equal(await page.locator("#result p").first().innerText(), "fox is in 3 documents.");
  const rows = await page.locator("#result tbody tr").evaluateAll((trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, " ").trim()));
  assert.deepEqual(rows, ["extra_notes.txt 2", "doc1 1", "doc3 1"]);
  await page.fill("#word", "the");
  await page.press("#word", "Enter");
  await page.locator("#result", { hasText: "the is in 3 documents." }).waitFor();
  assert.equal(await page.locator("#result tbody tr").first().innerText().then((t) => t.replace(/\s+/g, " ").trim()), "doc1 3");
  await page.fill("#word", "zebra");
  await page.press("#word", "Enter");
  await page.locator("#result", { hasText: "No document contains “zebra”." }).waitFor();
  await page.fill("#word", "fox");
  await page.press("#word", "Enter");
  await page.locator("#result table").waitFor();
  await assertAccessible(page);
  await screenshot(page, "inverted-index");
  await finish(opened, "index");
});

test("sentiment dashboard: live score, then the charts follow a running feed", async () => {
  const opened = await open("/sentiment-dashboard");
  const { page } = opened;
  await page.fill("#text", "I love this, it is wonderful!");
  await page.locator("#score .badge", { hasText: "positive" }).waitFor();
  assert.ok(Number(await page.locator("#score .big").innerText()) > 0.5);

  await page.fill("#tweets", '{"id": "t-1", "text": "I hate how slow this cloud is", "user": "bob"}');
  await page.click("#post");
  await page.locator("#feed-status", { hasText: "Received 1, published 1" }).waitFor();

  await page.click("#replay");
  assert.equal(await page.getAttribute("#replay", "aria-pressed"), "true");
  const count = () => page.locator("#summary").getAttribute("data-count").then(Number);
  await page.waitForFunction(() => Number(document.querySelector("#summary").dataset.count) >= 12);
  const seen = await count();
  await page.waitForFunction((n) => Number(document.querySelector("#summary").dataset.count) > n + 6, seen);
  await page.click("#replay");
  assert.equal(await page.getAttribute("#replay", "aria-pressed"), "false");
  assert.ok(await page.locator("#mean-chart path[data-series]").count() >= 1, "a line per keyword");
  assert.ok(await page.locator("#mean-chart circle").count() >= 2, "points over several minutes");
  assert.ok(await page.locator("#count-chart rect").count() >= 2, "bars per minute");
  await page.locator("#most-negative blockquote").waitFor();
  await page.locator("#most-positive blockquote").waitFor();
  await assertAccessible(page);
  await screenshot(page, "sentiment-dashboard");
  await page.selectOption("#keyword", "rust");
  await page.waitForFunction(() => document.querySelectorAll("#mean-chart path[data-series]").length === 1);
  await finish(opened, "dashboard");
});

test("unknown pages get the 404 page; the function routes still win", async () => {
  const opened = await open("/no/such/page", { allow: [/status of 404/] });
  assert.equal(opened.response.status(), 404);
  await opened.page.getByRole("heading", { name: "No page here" }).waitFor();
  await finish(opened, "404");
  const ops = await fetch(`${BASE}/image/ops`);
  assert.equal(ops.headers.get("content-type"), "application/json");
});

test("every page fits a phone screen and stays accessible there", async () => {
  for (const path of ["/", "/image-lab", "/drive", "/inverted-index", "/sentiment-dashboard"]) {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    const problems = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    await page.goto(BASE + path, { waitUntil: "networkidle" });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `${path}: no sideways scrolling on a phone (${overflow}px too wide)`);
    await assertAccessible(page);
    assert.deepEqual(problems, [], path);
    await context.close();
  }
});
