// Sentiment dashboard: live scoring, posting tweets to the feed, and the
// aggregates of GET /social/dashboard as charts, refreshed every 2 s.
"use strict";
(() => {
  const { el, $, call, say } = cf;
  const COLORS = ["#1d4ed8", "#c2410c", "#047857", "#7c3aed", "#be185d", "#0e7490", "#4d7c0f", "#92400e"];
  const REFRESH_MS = 2000;

  // --- live score -------------------------------------------------------
  let scoring = 0;
  async function scoreLive() {
    const text = $("#text").value;
    const ticket = ++scoring;
    if (!text.trim()) { $("#score").textContent = "Type to score with VADER."; return; }
    try {
      const response = await call("/sentiment", {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text }),
      }, "text");
      const s = await response.json();
      if (ticket !== scoring) return;
      $("#needle").style.left = `${((s.compound + 1) / 2) * 100}%`;
      $("#score").replaceChildren(el("span", { class: "big", text: s.compound.toFixed(4) }), " ",
        el("span", { class: `badge ${s.label === "negative" ? "error" : s.label === "positive" ? "ok" : "info"}`, text: s.label }),
        ` — positive ${s.pos}, neutral ${s.neu}, negative ${s.neg}`);
      $("#score").className = "";
    } catch (e) {
      if (ticket === scoring) { $("#score").textContent = e.message; $("#score").className = "status error"; }
    }
  }
  let debounce;
  $("#text").addEventListener("input", () => { clearTimeout(debounce); debounce = setTimeout(scoreLive, 150); });

  // --- feeding tweets ---------------------------------------------------
  const feedStatus = $("#feed-status");
  async function postTweets(body, contentType) {
    const response = await call("/social/tweets", { method: "POST", headers: { "content-type": contentType }, body }, "batch of tweets");
    return response.json();
  }

  /** The textarea as one JSON document, or as NDJSON when it has several lines of JSON. */
  function typed(text) {
    const lines = text.split("\n").filter((l) => l.trim());
    if (lines.length > 1 && !/^\s*\[/.test(text)) return [text, "application/x-ndjson"];
    return [text, "application/json"];
  }

  $("#post").addEventListener("click", async () => {
    const text = $("#tweets").value.trim();
    if (!text) { say(feedStatus, "Write a tweet first, as JSON: {\"text\": \"…\"}", "error"); return; }
    try {
      const r = await postTweets(...typed(text));
      say(feedStatus, `Received ${r.received}, published ${r.published} to the feed, ${r.filtered_out} without a keyword.`);
      refresh();
    } catch (e) {
      say(feedStatus, e.message, "error");
    }
  });

  const SAMPLE = [
    "I love #rust, the compiler is so helpful!", "wasm startup times are amazing", "serverless bills are terrible this month",
    "The cloud outage ruined my weekend :(", "webassembly components are a great idea", "rust lifetimes are confusing and annoying",
    "Deploying serverless functions was easy and fun", "cloud costs keep going up, awful", "wasm on the edge is fast and cheap, love it",
    "meh, another cloud conference", "rust 2024 edition is excellent", "serverless cold starts still hurt",
  ];
  let replayTimer = null, replayed = 0;
  async function replayBatch() {
    const now = Date.now();
    const batch = Array.from({ length: 6 }, () => {
      replayed += 1;
      const minutesAgo = Math.floor(Math.random() * 10);
      return JSON.stringify({
        id: `sample-${now}-${replayed}`, user: `user${replayed % 17}`,
        text: SAMPLE[Math.floor(Math.random() * SAMPLE.length)],
        created_at: new Date(now - minutesAgo * 60000 - Math.random() * 50000).toISOString(),
      });
    }).join("\n");
    try {
      const r = await postTweets(batch, "application/x-ndjson");
      say(feedStatus, `Replaying: ${replayed} sample tweets sent (last batch: ${r.published} published).`);
    } catch (e) {
      say(feedStatus, e.message, "error");
      toggleReplay();
    }
  }
  function toggleReplay() {
    const button = $("#replay");
    if (replayTimer) {
      clearInterval(replayTimer);
      replayTimer = null;
      button.textContent = "Replay sample feed";
    } else {
      replayBatch();
      replayTimer = setInterval(replayBatch, 1500);
      button.textContent = "Stop the sample feed";
    }
    button.setAttribute("aria-pressed", String(Boolean(replayTimer)));
  }
  $("#replay").addEventListener("click", toggleReplay);

  // --- the dashboard ----------------------------------------------------
  const status = $("#dashboard-status");
  const minuteLabel = (iso) => iso.slice(11, 16);

  function tweet(extreme, kind) {
    if (!extreme) return el("p", { class: "hint", text: "None yet." });
    return el("blockquote", { class: `tweet ${kind}` },
      el("p", { text: extreme.text }),
      el("footer", { class: "hint", text: `${extreme.user ? `@${extreme.user}, ` : ""}compound ${extreme.compound.toFixed(4)} (id ${extreme.id})` }));
  }

  function render(data) {
    const select = $("#keyword");
    if (select.options.length === 1) {
      for (const k of data.keywords) select.append(el("option", { value: k, text: k }));
    }
    const shown = select.value ? [select.value] : data.keywords;
    // Minutes without tweets are absent from the answer: put them back, so
    // the x axis is time.
    const byTime = new Map(data.minutes.map((m) => [Date.parse(m.minute), m]));
    const times = [...byTime.keys()];
    const minutes = [];
    for (let t = Math.min(...times); t <= Math.max(...times); t += 60000) {
      minutes.push(byTime.get(t) ?? { minute: new Date(t).toISOString(), keywords: {} });
    }
    data = { ...data, minutes };
    const labels = data.minutes.map((m) => minuteLabel(m.minute));
    cfChart.line($("#mean-chart"), labels, shown.map((k) => ({
      name: k, color: COLORS[data.keywords.indexOf(k) % COLORS.length],
      values: data.minutes.map((m) => m.keywords[k]?.mean_compound ?? null),
    })), { title: "Mean compound score per minute" });
    $("#mean-legend").replaceChildren(...shown.map((k) => el("span", { style: `--swatch:${COLORS[data.keywords.indexOf(k) % COLORS.length]}`, text: k })));
    const sum = (field) => data.minutes.map((m) => shown.reduce((n, k) => n + (m.keywords[k]?.[field] ?? 0), 0));
    cfChart.bars($("#count-chart"), labels, [
      { name: "positive", color: "#15803d", values: sum("positive") },
      { name: "neutral", color: "#6b7280", values: sum("neutral") },
      { name: "negative", color: "#b91c1c", values: sum("negative") },
    ], { title: "Tweets per minute by label" });
    const totals = shown.map((k) => data.totals[k]).filter(Boolean);
    const count = totals.reduce((n, t) => n + t.count, 0);
    const best = totals.map((t) => t.most_positive).filter(Boolean).sort((a, b) => b.compound - a.compound)[0];
    const worst = totals.map((t) => t.most_negative).filter(Boolean).sort((a, b) => a.compound - b.compound)[0];
    $("#summary").textContent = count
      ? `${count} keyword mention${count === 1 ? "" : "s"} in ${times.length} minute${times.length === 1 ? "" : "s"} with tweets.`
      : "No tweets yet: post some, or replay the sample feed.";
    $("#summary").dataset.count = String(count);
    $("#most-positive").replaceChildren(tweet(best, "pos"));
    $("#most-negative").replaceChildren(tweet(worst, "neg"));
  }

  let refreshing = false;
  async function refresh() {
    if (refreshing) return;
    refreshing = true;
    const params = new URLSearchParams({ minutes: $("#minutes").value });
    try {
      render(await (await call(`/social/dashboard?${params}`, {}, "dashboard request")).json());
      if (status.classList.contains("error")) status.textContent = "";
    } catch (e) {
      say(status, e.message, "error");
    } finally {
      refreshing = false;
    }
  }
  $("#keyword").addEventListener("change", refresh);
  $("#minutes").addEventListener("change", refresh);
  setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
  refresh();
})();
