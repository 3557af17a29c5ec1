// The Cloud Drive's users in a real browser, on `cloudfn up` with the
// product manifest as it ships (no anonymous drive). Run by the e2e test
// `web::accounts_work_in_a_real_browser`; see support.mjs for what it sets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, browser, open, finish, screenshot, assertAccessible } from "./support.mjs";

const PASSWORD = "correct horse battery staple";
const NOTE = Buffer.from("alice's private notes\n".repeat(200));

/** Registers `username` through the login page's form; lands on the drive. */
async function register(username, allow) {
  const opened = await open("/login?next=%2Fdrive", { allow });
  const { page } = opened;
  await page.fill("#register-name", username);
  await page.fill("#register-password", PASSWORD);
  await page.click("#register button[type=submit]");
  await page.waitForURL(`${BASE}/drive`);
  await page.locator("#who", { hasText: `Logged in as ${username}.` }).waitFor();
  return opened;
}

/** `fetch` from inside the page, with its cookies: the status. */
const fetchStatus = (page, url, init = {}) =>
  page.evaluate(async ([u, i]) => (await fetch(u, i)).status, [url, init]);

test("logged out, the drive and the account page send you to log in", async () => {
  for (const path of ["/drive", "/profile"]) {
    const opened = await open(path, { allow: [/status of 401/] });
    await opened.page.waitForURL(`${BASE}/login?next=${encodeURIComponent(path)}`);
    await opened.page.locator("#status", { hasText: "Log in to see that page." }).waitFor();
    if (path === "/drive") {
      await assertAccessible(opened.page);
      await screenshot(opened.page, "login");
    }
    await finish(opened, `${path} logged out`);
  }
  const wrong = await open("/login", { allow: [/status of 401/] });
  await wrong.page.fill("#login-name", "nobody");
  await wrong.page.fill("#login-password", "not the password");
  await wrong.page.click("#login button[type=submit]");
  await wrong.page.locator("#status.error", { hasText: "Not logged in: wrong username or password" }).waitFor();
  await finish(wrong, "a wrong password");
});

test("register, upload, share a link; a second user cannot see or fetch the file", async () => {
  // Alice's page meets a 401 once logged out; bob's, alice's file's 404s.
  const alice = await register("alice", [/status of 401/]);
  const { page } = alice;
  await page.setInputFiles("#files", { name: "notes.txt", mimeType: "text/plain", buffer: NOTE });
  await page.locator("#uploads li[data-done='ok']").waitFor();
  await page.locator("#listing tr[data-key='notes.txt']").waitFor();
  assert.equal(await fetchStatus(page, "/blobs/notes.txt"), 200);

  await page.click("#share-options summary");
  await page.fill("#share-downloads", "3");
  await page.getByRole("button", { name: "Share notes.txt" }).click();
  const link = await page.locator("#share-url").getAttribute("href");
  assert.match(link, new RegExp(`^${BASE}/s/[A-Za-z0-9_-]{40,}$`));
  const shared = await fetch(link);
  assert.equal(shared.status, 200, "the link works without an account");
  assert.deepEqual(Buffer.from(await shared.arrayBuffer()), NOTE);
  await assertAccessible(page);
  await screenshot(page, "drive-user");

  const bob = await register("bob", [/status of 404/]);
  await bob.page.locator("#status", { hasText: "No files in the drive." }).waitFor();
  assert.equal(await bob.page.locator("#listing tr[data-key]").count(), 0, "bob's listing is his own");
  assert.equal(await fetchStatus(bob.page, "/blobs/notes.txt"), 404, "alice's file is not bob's to fetch");
  assert.equal(await fetchStatus(bob.page, "/blobs/notes.txt", { method: "HEAD" }), 404);
  assert.equal(await fetchStatus(bob.page, "/blobs/notes.txt", { method: "DELETE" }), 404);
  assert.equal(await fetchStatus(page, "/blobs/notes.txt"), 200, "and it is still alice's");
  await finish(bob, "bob's drive");

  // The account page: usage against the quota, profile, the link and a token.
  await page.goto(`${BASE}/profile`);
  await page.locator("#usage-text", { hasText: `${(NOTE.length / 1024).toFixed(1)} KiB of 1.0 GiB used` }).waitFor();
  assert.ok(Number(await page.locator("#usage").getAttribute("value")) > 0, "the usage bar shows the file");
  await page.fill("#display-name", "Alice Liddell");
  await page.click("#profile button[type=submit]");
  await page.locator("#status", { hasText: "Profile saved." }).waitFor();
  await page.locator("#who", { hasText: "Logged in as alice (Alice Liddell)." }).waitFor();

  await page.fill("#token-name", "backup script");
  await page.click("#new-token button[type=submit]");
  const token = await page.locator("#new-token-value").innerText();
  const byToken = await fetch(`${BASE}/blobs/notes.txt`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(byToken.status, 200, "the token reads alice's drive");
  await page.getByRole("button", { name: "Revoke token backup script" }).click();
  await page.locator("#status", { hasText: "Revoked the token backup script." }).waitFor();
  assert.equal((await fetch(`${BASE}/blobs/notes.txt`, { headers: { authorization: `Bearer ${token}` } })).status, 401);

  await page.locator("tr[data-share] td", { hasText: "notes.txt" }).waitFor();
  assert.match(await page.locator("tr[data-share] td.num").innerText(), /^1 of 3$/);
  await assertAccessible(page);
  await screenshot(page, "profile");
  await page.getByRole("button", { name: "Revoke the link to notes.txt" }).click();
  await page.locator("#status", { hasText: "Revoked the link to notes.txt." }).waitFor();
  assert.equal((await fetch(link)).status, 404, "a revoked link is gone");

  // A new password ends the other sessions, not this one.
  const other = await browser.newContext();
  const otherLogin = await other.request.post(`${BASE}/account/login`, {
    headers: { origin: BASE }, data: { username: "alice", password: PASSWORD },
  });
  assert.equal(otherLogin.status(), 200);
  await page.fill("#current-password", PASSWORD);
  await page.fill("#new-password", `${PASSWORD} two`);
  await page.click("#password button[type=submit]");
  await page.locator("#status", { hasText: "Password changed" }).waitFor();
  assert.equal((await other.request.get(`${BASE}/account/profile`)).status(), 401, "the other session ended");
  await other.close();

  await page.click("#logout");
  await page.waitForURL(`${BASE}/login`);
  await page.goto(`${BASE}/drive`);
  await page.waitForURL(`${BASE}/login?next=%2Fdrive`);

  // Back in with the new password, then the account goes, files and all.
  await page.goto(`${BASE}/login?next=%2Fprofile`);
  await page.fill("#login-name", "alice");
  await page.fill("#login-password", `${PASSWORD} two`);
  await page.click("#login button[type=submit]");
  await page.waitForURL(`${BASE}/profile`);
  await page.fill("#delete-password", `${PASSWORD} two`);
  page.once("dialog", (dialog) => dialog.accept());
  await page.click("#delete button[type=submit]");
  await page.waitForURL(`${BASE}/login`);
  const gone = await fetch(`${BASE}/account/login`, {
    method: "POST", headers: { "content-type": "application/json", origin: BASE },
    body: JSON.stringify({ username: "alice", password: `${PASSWORD} two` }),
  });
  assert.equal(gone.status, 401, "the account is gone");
  await finish(alice, "alice's journey");
});

test("the image lab asks for a login to save to the drive", async () => {
  const opened = await open("/image-lab", { allow: [/status of 401/] });
  const { page } = opened;
  await page.locator("#op option[value='resize']").waitFor({ state: "attached" });
  await page.setInputFiles("#file", { name: "dot.png", mimeType: "image/png", buffer: TINY_PNG });
  await page.selectOption("#op", "grayscale");
  await page.click("#add");
  await page.click("#apply");
  await page.locator("#status.ok").waitFor();
  await page.click("#save");
  await page.locator("#save-status.error", { hasText: "Saving to the drive needs an account" }).waitFor();
  assert.equal(await page.locator("#save-status a").getAttribute("href"), "/login?next=%2Fimage-lab");
  await finish(opened, "image lab logged out");
});

test("the login and account pages fit a phone screen and stay accessible there", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const signup = await context.request.post(`${BASE}/account/register`, {
    headers: { origin: BASE }, data: { username: "carol", password: PASSWORD },
  });
  assert.equal(signup.status(), 201);
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  for (const path of ["/login", "/profile", "/drive"]) {
    await page.goto(BASE + path, { waitUntil: "networkidle" });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `${path}: no sideways scrolling on a phone (${overflow}px too wide)`);
    await assertAccessible(page);
  }
  assert.deepEqual(problems, []);
  await context.close();
});

/** A 1×1 PNG. */
const TINY_PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");
