// Account: storage used against the quota, profile, password, API tokens,
// share links, log out and deleting the account. Logged out: to the login page.
"use strict";
(() => {
  const { el, $, bytes, send, say, logIn } = cf;
  const status = $("#status");
  const when = (seconds) => (seconds ? new Date(seconds * 1000).toLocaleString("en-GB") : "—");
  const form = (id) => Object.fromEntries(new FormData($(id)));

  /** Runs an account call; a 401 means the session is gone. */
  async function account(method, url, body, what) {
    try {
      return await send(method, url, body, what);
    } catch (e) {
      if (e.status === 401) logIn();
      throw e;
    }
  }

  function showProfile(user) {
    $("#who").textContent = `Logged in as ${user.username}${user.display_name !== user.username ? ` (${user.display_name})` : ""}.`;
    $("#display-name").value = user.display_name;
    $("#email").value = user.email || "";
    const share = user.quota_bytes > 0 ? user.used_bytes / user.quota_bytes : 0;
    $("#usage").value = Math.min(share, 1);
    $("#usage-text").textContent = `${bytes(user.used_bytes)} of ${bytes(user.quota_bytes)} used (${(share * 100).toFixed(1)} %).`;
  }

  async function loadTokens() {
    const { tokens } = await account("GET", "/account/tokens", undefined, "token list");
    $("#tokens").replaceChildren(...tokens.map((t) => el("tr", { "data-token": t.id },
      el("td", { text: t.name }), el("td", { text: when(t.created) }), el("td", { class: "hide-narrow", text: when(t.last_used) }),
      el("td", {}, el("button", { type: "button", class: "danger", text: "Revoke", "aria-label": `Revoke token ${t.name}`,
        onclick: () => act(`Revoked the token ${t.name}.`, () => account("DELETE", `/account/tokens/${t.id}`, undefined, "revocation").then(loadTokens)) })))));
    if (!tokens.length) $("#tokens").append(el("tr", {}, el("td", { colspan: 4, text: "No tokens." })));
  }

  async function loadShares() {
    const { shares } = await account("GET", "/account/shares", undefined, "share list");
    $("#shares").replaceChildren(...shares.map((s) => el("tr", { "data-share": s.id },
      el("td", { class: "mono", text: s.key }), el("td", { class: "hide-narrow", text: s.expires ? when(s.expires) : "never" }),
      el("td", { class: "num", text: s.max_downloads ? `${s.downloads} of ${s.max_downloads}` : String(s.downloads) }),
      el("td", {}, el("button", { type: "button", class: "danger", text: "Revoke", "aria-label": `Revoke the link to ${s.key}`,
        onclick: () => act(`Revoked the link to ${s.key}.`, () => account("DELETE", `/account/shares/${s.id}`, undefined, "revocation").then(loadShares)) })))));
    if (!shares.length) $("#shares").append(el("tr", {}, el("td", { colspan: 4, text: "No share links." })));
  }

  /** Runs `work`, then says `done` or what went wrong. */
  async function act(done, work) {
    try {
      await work();
      say(status, done);
    } catch (e) {
      say(status, e.message, "error");
    }
  }

  $("#profile").addEventListener("submit", (e) => {
    e.preventDefault();
    act("Profile saved.", async () => showProfile(await account("PATCH", "/account/profile", form("#profile"), "profile")));
  });
  $("#password").addEventListener("submit", (e) => {
    e.preventDefault();
    act("Password changed; your other sessions were logged out.", async () => {
      await account("PATCH", "/account/profile", form("#password"), "password change");
      $("#password").reset();
    });
  });
  $("#new-token").addEventListener("submit", (e) => {
    e.preventDefault();
    act("Token created.", async () => {
      const made = await account("POST", "/account/tokens", form("#new-token"), "token");
      const shown = $("#token-shown");
      say(shown, `Copy it now, it is not shown again: `);
      shown.append(el("code", { id: "new-token-value", text: made.token }));
      $("#new-token").reset();
      await loadTokens();
    });
  });
  $("#logout").addEventListener("click", () => act("Logged out.", async () => {
    await account("POST", "/account/logout", undefined, "logout");
    location.assign("/login");
  }));
  $("#delete").addEventListener("submit", (e) => {
    e.preventDefault();
    if (!confirm("Delete your account, your files and your share links? This cannot be undone.")) return;
    act("Account deleted.", async () => {
      await account("DELETE", "/account", form("#delete"), "deletion");
      location.assign("/login");
    });
  });

  (async () => {
    try {
      const { user } = await account("GET", "/account/session", undefined, "session");
      if (!user) return logIn();
      showProfile(user);
      await Promise.all([loadTokens(), loadShares()]);
    } catch (e) {
      if (e.status !== 401) say(status, e.message, "error");
    }
  })();
})();
