// Home: call each function once and say whether it answers.
"use strict";
(() => {
  const { el, $, call } = cf;
  const json = (value) => ({
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(value),
  });
  const text = (body) => ({ method: "POST", headers: { "content-type": "text/plain" }, body });
  const probes = [
    { name: "image-filter", route: "/image/...", url: "/image/ops", what: "GET /image/ops" },
    { name: "blob-upload", route: "/blobs/...", url: "/blobs?limit=1", what: "GET /blobs?limit=1" },
    { name: "index-map", route: "/index/map, /index/build", url: "/index/map", options: text("d1\thello world\n"), what: "POST /index/map" },
    { name: "index-reduce", route: "/index/reduce", url: "/index/reduce", options: text("hello\td1\t1\n"), what: "POST /index/reduce" },
    { name: "sentiment", route: "/sentiment/...", url: "/sentiment", options: json({ text: "good" }), what: "POST /sentiment" },
    { name: "social-listener", route: "/social/...", url: "/social/dashboard?minutes=1", what: "GET /social/dashboard" },
    { name: "image-thumbnail", route: "channel blob-created", event: true },
    { name: "social-consumer", route: "channel feed", event: true },
  ];
  const body = $("#functions");
  for (const probe of probes) {
    const answer = el("td", {}, el("span", { class: "badge info", text: probe.event ? "event-triggered" : "calling…" }));
    body.append(el("tr", { "data-function": probe.name },
      el("th", { scope: "row" }, el("code", { text: probe.name })),
      el("td", { class: "hide-narrow" }, el("code", { text: probe.route })),
      el("td", { class: "hide-narrow" }, probe.event ? "—" : el("code", { text: probe.what })),
      answer));
    if (probe.event) continue;
    const started = performance.now();
    call(probe.url, probe.options).then(
      (response) => {
        const ms = Math.round(performance.now() - started);
        answer.replaceChildren(el("span", { class: "badge ok", text: `answers (${response.status}, ${ms} ms)` }));
      },
      (error) => answer.replaceChildren(el("span", { class: "badge error", text: "does not answer" }), " ", error.message),
    );
  }
})();
