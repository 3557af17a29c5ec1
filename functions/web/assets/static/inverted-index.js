// Inverted index: documents → POST /index/build → postings, searched here.
"use strict";
(() => {
  const { el, $, bytes, call, say, dropZone } = cf;
  const status = $("#status");
  const files = new Map();
  let index = new Map();

  const SAMPLE = [
    "The quick brown fox jumps over the lazy dog. The dog sleeps.",
    "A serverless function runs in a fresh sandbox for every request.",
    "WebAssembly components run the same on Spin, on Lambda and in cloudfn. The fox approves.",
  ].join("\n\n");

  // A record is `doc-id<TAB>content` on one line: tabs and line breaks become spaces.
  const record = (id, text) => `${id}\t${text.replace(/[\t\r\n]+/g, " ")}`;

  function records() {
    const pasted = $("#docs").value.split(/\n\s*\n/).map((t) => t.trim()).filter(Boolean);
    const lines = pasted.map((text, i) => record(`doc${i + 1}`, text));
    for (const [name, text] of files) lines.push(record(name.replace(/\s+/g, "_"), text));
    return lines;
  }

  /** `word<TAB>df<TAB>doc:tf,…` lines → Map(word → {df, postings: [[doc, tf]]}). */
  function parse(text) {
    const parsed = new Map();
    for (const line of text.split("\n")) {
      const [word, df, postings] = line.split("\t");
      if (!postings) continue;
      parsed.set(word, {
        df: Number(df),
        postings: postings.split(",").map((p) => {
          const colon = p.lastIndexOf(":");
          return [p.slice(0, colon), Number(p.slice(colon + 1))];
        }),
      });
    }
    return parsed;
  }

  async function build() {
    const lines = records();
    if (!lines.length) {
      say(status, "Add a document first: paste text or add a file.", "error");
      $("#docs").focus();
      return;
    }
    const body = `${lines.join("\n")}\n`;
    say(status, `Indexing ${lines.length} document${lines.length === 1 ? "" : "s"}…`, "busy");
    $("#build").disabled = true;
    const started = performance.now();
    try {
      const response = await call("/index/build", { method: "POST", headers: { "content-type": "text/tab-separated-values" }, body }, "set of documents");
      index = parse(await response.text());
      const ms = Math.round(performance.now() - started);
      say(status, `Indexed ${lines.length} documents (${bytes(new Blob([body]).size)}): ${index.size} distinct words in ${ms} ms.`);
      $("#word").disabled = false;
      $("#search").disabled = false;
      $("#word").focus();
    } catch (e) {
      say(status, e.message, "error");
    } finally {
      $("#build").disabled = false;
    }
  }

  function search(event) {
    event.preventDefault();
    const word = $("#word").value.trim().normalize("NFC").toLowerCase();
    const result = $("#result");
    if (!word) return;
    const entry = index.get(word);
    if (!entry) {
      const near = [...index.keys()].filter((w) => w.startsWith(word.slice(0, 3))).slice(0, 8);
      result.replaceChildren(el("p", { role: "status", text: `No document contains “${word}”.` }),
        near.length ? el("p", { class: "hint", text: `Words starting alike: ${near.join(", ")}` }) : null);
      return;
    }
    const rows = [...entry.postings].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    result.replaceChildren(
      el("p", { role: "status" }, el("strong", { text: word }), ` is in ${entry.df} document${entry.df === 1 ? "" : "s"}.`),
      el("table", {},
        el("caption", { class: "sr-only", text: `Postings of ${word}` }),
        el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Document" }), el("th", { scope: "col", class: "num", text: "Term frequency" }))),
        el("tbody", {}, rows.map(([doc, tf]) => el("tr", {}, el("td", { text: doc }), el("td", { class: "num", text: String(tf) }))))));
  }

  dropZone($("#drop"), $("#files"), async (added) => {
    for (const file of added) files.set(file.name, await file.text());
    $("#file-list").replaceChildren(...[...files].map(([name, text]) => el("li", { text: `${name} (${bytes(new Blob([text]).size)})` })));
  });
  $("#sample").addEventListener("click", () => { $("#docs").value = SAMPLE; });
  $("#build").addEventListener("click", build);
  $("#search-form").addEventListener("submit", search);
})();
