// Log in or register, then go back to the page that sent you here (?next=).
"use strict";
(() => {
  const { $, call, say, nextPage } = cf;
  const status = $("#status");

  async function submit(form, url, what) {
    const fields = Object.fromEntries(new FormData(form));
    for (const [name, value] of Object.entries(fields)) if (value === "") delete fields[name];
    say(status, what === "login" ? "Logging in…" : "Creating the account…", "busy");
    try {
      await call(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(fields) }, what);
      location.assign(nextPage());
    } catch (e) {
      say(status, e.status === 401 ? `Not logged in: ${e.detail}` : e.message, "error");
    }
  }

  $("#login").addEventListener("submit", (e) => { e.preventDefault(); submit(e.target, "/account/login", "login"); });
  $("#register").addEventListener("submit", (e) => { e.preventDefault(); submit(e.target, "/account/register", "registration"); });
  if (new URLSearchParams(location.search).has("next")) say(status, "Log in to see that page.");
})();
