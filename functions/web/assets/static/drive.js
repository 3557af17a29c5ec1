// Drive: the logged-in user's files: list, upload (with progress), download,
// delete and share. Logged out (and the drive not anonymous): to the login page.
"use strict";
(() => {
  const { el, $, bytes, call, send, describe, say, dropZone, blobPath, logIn } = cf;
  const status = $("#status");
  const state = { prefix: new URLSearchParams(location.search).get("prefix") || "", pages: [""], next: null };

  function crumbs() {
    const parts = state.prefix.split("/").filter(Boolean);
    const links = [el("a", { href: "?prefix=", "data-prefix": "", text: "All files" })];
    parts.forEach((part, i) => {
      const prefix = `${parts.slice(0, i + 1).join("/")}/`;
      links.push(" / ", el("a", { href: `?prefix=${encodeURIComponent(prefix)}`, "data-prefix": prefix, text: part }));
    });
    $("#crumbs").replaceChildren(...links);
    $("#prefix").value = state.prefix;
  }

  function open(prefix) {
    state.prefix = prefix;
    state.pages = [""];
    history.replaceState(null, "", `?prefix=${encodeURIComponent(prefix)}`);
    load();
  }

  async function remove(key, row) {
    if (!confirm(`Delete ${key}? This cannot be undone.`)) return;
    try {
      await call(blobPath(key), { method: "DELETE" }, "delete");
      row.remove();
      say(status, `Deleted ${key}.`);
    } catch (e) {
      say(status, e.message, "error");
    }
  }

  async function share(key) {
    const region = $("#share-status");
    const options = { key };
    const hours = Number($("#share-hours").value), downloads = Number($("#share-downloads").value);
    if (hours > 0) options.expires_in = Math.round(hours * 3600);
    if (downloads > 0) options.max_downloads = downloads;
    if ($("#share-password").value) options.password = $("#share-password").value;
    try {
      const made = await send("POST", "/account/shares", options, "share link");
      const url = new URL(made.url, location.origin).href;
      say(region, `Anyone with this link can download ${key}: `);
      region.append(el("a", { id: "share-url", class: "share-link", href: url, text: url }));
    } catch (e) {
      say(region, e.status === 401 ? "Share links belong to an account: log in to make one." : e.message, "error");
    }
  }

  function fileRow(item) {
    const name = item.key.slice(state.prefix.length);
    const row = el("tr", { "data-key": item.key });
    row.append(
      el("td", {}, el("a", { href: blobPath(item.key), text: name })),
      el("td", { class: "num", text: bytes(item.size) }),
      el("td", { class: "hide-narrow", text: item.content_type || "—" }),
      el("td", { class: "hide-narrow mono", title: item.sha256, text: `${item.sha256.slice(0, 12)}…` }),
      el("td", {},
        el("a", { class: "button secondary", href: blobPath(item.key), download: name.split("/").pop(), text: "Download", "aria-label": `Download ${name}` }), " ",
        el("button", { type: "button", class: "secondary", text: "Share", "aria-label": `Share ${name}`, onclick: () => share(item.key) }), " ",
        el("button", { type: "button", class: "danger", text: "Delete", "aria-label": `Delete ${name}`, onclick: () => remove(item.key, row) })));
    return row;
  }

  function folderRow(folder) {
    return el("tr", { "data-folder": folder },
      el("td", { colspan: 5 }, el("span", { class: "folder", "aria-hidden": "true" }), el("a", {
        href: `?prefix=${encodeURIComponent(folder)}`, text: folder.slice(state.prefix.length),
        onclick: (e) => { e.preventDefault(); open(folder); },
      })));
  }

  async function load() {
    crumbs();
    const startAfter = state.pages[state.pages.length - 1];
    const params = new URLSearchParams({ prefix: state.prefix, limit: $("#limit").value });
    if (startAfter) params.set("start-after", startAfter);
    say(status, "Loading…", "busy");
    try {
      const page = await (await call(`/blobs?${params}`, {}, "listing")).json();
      const folders = new Set();
      const rows = [];
      for (const item of page.items) {
        const rest = item.key.slice(state.prefix.length);
        const slash = rest.indexOf("/");
        if (slash >= 0) {
          const folder = state.prefix + rest.slice(0, slash + 1);
          if (!folders.has(folder)) { folders.add(folder); rows.push(folderRow(folder)); }
        } else {
          rows.push(fileRow(item));
        }
      }
      $("#listing").replaceChildren(...rows);
      state.next = page.next_start_after;
      $("#next").disabled = !state.next;
      $("#first").disabled = state.pages.length === 1;
      const where = state.prefix ? `in ${state.prefix}` : "in the drive";
      const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
      const fileCount = rows.length - folders.size;
      say(status, rows.length
        ? `${plural(fileCount, "file")} and ${plural(folders.size, "folder")} ${where} on this page.`
        : `No files ${where}.`);
    } catch (e) {
      if (e.status === 401) logIn();
      else say(status, e.message, "error");
    }
  }

  /** PUT one file with a progress bar (fetch cannot report upload progress; XHR can). */
  function upload(file) {
    const key = state.prefix + file.name;
    const bar = el("progress", { max: 1, value: 0, "aria-label": `Upload of ${file.name}` });
    const note = el("span", { class: "hint", text: "starting…" });
    const item = el("li", { "data-upload": key }, el("strong", { text: file.name }), " ", bar, " ", note);
    $("#uploads").append(item);
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", blobPath(key));
      xhr.setRequestHeader("content-type", file.type || "application/octet-stream");
      xhr.upload.onprogress = (e) => {
        if (!e.lengthComputable) return;
        bar.value = e.loaded / e.total;
        note.textContent = `${bytes(e.loaded)} of ${bytes(e.total)}`;
      };
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          bar.value = 1;
          note.textContent = `stored, ${bytes(file.size)}, sha256 ${(xhr.getResponseHeader("x-checksum-sha256") || "").slice(0, 12)}…`;
          item.dataset.done = "ok";
        } else {
          note.textContent = describe(xhr.status, xhr.responseText, xhr.getResponseHeader("retry-after"), "file");
          note.className = "status error";
          item.dataset.done = "error";
        }
        resolve();
      };
      xhr.onerror = () => {
        note.textContent = `Could not reach the drive: the connection failed while sending ${file.name}.`;
        note.className = "status error";
        item.dataset.done = "error";
        resolve();
      };
      xhr.send(file);
    });
  }

  dropZone($("#drop"), $("#files"), async (files) => {
    await Promise.all(files.map(upload));
    $("#files").value = "";
    load();
  });
  $("#crumbs").addEventListener("click", (e) => {
    const link = e.target.closest("a[data-prefix]");
    if (link) { e.preventDefault(); open(link.dataset.prefix); }
  });
  $("#goto").addEventListener("submit", (e) => {
    e.preventDefault();
    const prefix = $("#prefix").value.trim().replace(/^\/+/, "");
    open(prefix && !prefix.endsWith("/") ? `${prefix}/` : prefix);
  });
  $("#reload").addEventListener("click", load);
  $("#share-form").addEventListener("submit", (e) => e.preventDefault());
  $("#next").addEventListener("click", () => { state.pages.push(state.next); load(); });
  $("#first").addEventListener("click", () => { state.pages = [""]; load(); });
  $("#limit").addEventListener("change", () => { state.pages = [""]; load(); });
  send("GET", "/account/session", undefined, "session").then(({ user }) => {
    if (user) $("#who").replaceChildren(`Logged in as ${user.username}. `, el("a", { href: "/profile", text: "Your account" }));
    else $("#who").replaceChildren("Not logged in: this is the shared anonymous drive. ", el("a", { href: "/login?next=%2Fdrive", text: "Log in" }));
  }, () => {});
  load();
})();
