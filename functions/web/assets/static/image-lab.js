// Image lab: a pipeline built from GET /image/ops, run by POST /image/filter.
"use strict";
(() => {
  const { el, $, bytes, call, say, dropZone, blobPath } = cf;
  const state = { ops: [], file: null, result: null, resultName: "" };
  const status = $("#status");

  // An op's form (`resize:WIDTHxHEIGHT[:FIT]`) names its parameters in capitals.
  const token = (param) => param.name.toUpperCase().replace(/-/g, "");
  const optional = /\[(.*?)\]/g;

  /** The parameter values of an op's example, as defaults. */
  function defaults(spec) {
    let pattern = spec.form.replace(/[.*+?^${}()|\\]/g, "\\$&");
    pattern = pattern.replace(/\[/g, "(?:").replace(/\]/g, ")?").replace(/[A-Z]+/g, "([^:x]+)");
    const match = new RegExp(`^${pattern}$`).exec(spec.example) || [];
    const names = spec.form.match(/[A-Z]+/g) || [];
    return Object.fromEntries(names.map((name, i) => [name, match[i + 1]]));
  }

  /** One step's op string from its controls, e.g. `resize:800x600:cover`. */
  function opString(step) {
    const values = {};
    for (const input of step.inputs) values[input.dataset.token] = input.value.trim();
    return step.spec.form
      .replace(optional, (_, inner) => (/[A-Z]+/.test(inner) && inner.match(/[A-Z]+/g).every((t) => values[t]) ? inner : ""))
      .replace(/[A-Z]+/g, (t) => values[t] ?? "");
  }

  function query() {
    const params = new URLSearchParams();
    params.set("ops", steps().map(opString).join(","));
    if ($("#format").value) params.set("format", $("#format").value);
    const format = $("#format").value || state.file?.type.replace("image/", "");
    if (format === "jpeg") params.set("quality", $("#quality").value);
    return params.toString();
  }

  const stepList = $("#steps");
  const steps = () => [...stepList.children].map((li) => li.step);

  function refresh() {
    $("#query").textContent = decodeURIComponent(query());
    $("#apply").disabled = !state.file;
    [...stepList.children].forEach((li, i, all) => {
      li.querySelector("[data-move='-1']").disabled = i === 0;
      li.querySelector("[data-move='1']").disabled = i === all.length - 1;
    });
  }

  function control(spec, param, value, id) {
    const label = `${param.name}${param.type === "enum" ? "" : ` (${param.min}–${param.max})`}`;
    const input = param.type === "enum"
      ? el("select", { id }, param.values.map((v) => el("option", { selected: v === value, text: v })))
      : el("input", {
        id, type: "number", min: param.min, max: param.max, step: param.type === "integer" ? 1 : "any",
        value: value ?? param.min, required: true,
      });
    input.dataset.token = token(param);
    input.addEventListener("input", refresh);
    return { input, node: el("div", {}, el("label", { for: id, text: label }), input) };
  }

  let stepCount = 0;
  function addStep(spec) {
    stepCount += 1;
    const values = defaults(spec);
    const controls = spec.params.map((p) => control(spec, p, values[token(p)], `step${stepCount}-${p.name}`));
    const li = el("li", { class: "step" });
    const move = (delta) => () => {
      const sibling = delta < 0 ? li.previousElementSibling : li.nextElementSibling;
      if (sibling) stepList.insertBefore(li, delta < 0 ? sibling : sibling.nextElementSibling);
      refresh();
      li.querySelector(`[data-move='${delta}']`).focus();
    };
    li.append(
      el("div", { class: "row" },
        el("strong", { text: spec.name }),
        el("span", { class: "hint", text: spec.description }),
        el("span", { style: "margin-left:auto" },
          el("button", { type: "button", class: "icon secondary", "data-move": "-1", "aria-label": `Move ${spec.name} up`, onclick: move(-1), text: "↑" }), " ",
          el("button", { type: "button", class: "icon secondary", "data-move": "1", "aria-label": `Move ${spec.name} down`, onclick: move(1), text: "↓" }), " ",
          el("button", { type: "button", class: "icon danger", "aria-label": `Remove ${spec.name}`, onclick: () => { li.remove(); refresh(); }, text: "✕" }))),
      ...(controls.length ? [el("div", { class: "params" }, controls.map((c) => c.node))] : []));
    li.step = { spec, inputs: controls.map((c) => c.input) };
    stepList.append(li);
    refresh();
  }

  function showOriginal(file) {
    state.file = file;
    const img = $("#before");
    img.src = URL.createObjectURL(file);
    img.hidden = false;
    img.onload = () => {
      $("#before-caption").textContent = `${file.name}: ${img.naturalWidth}×${img.naturalHeight}, ${bytes(file.size)}`;
    };
    say(status, `${file.name} is ready: add steps and apply the pipeline.`);
    refresh();
  }

  const extension = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif", "image/bmp": "bmp", "image/tiff": "tiff" };

  async function apply() {
    if (!state.file) return;
    const invalid = stepList.querySelector(":invalid");
    if (invalid) {
      say(status, `${invalid.labels[0].textContent} is out of range.`, "error");
      invalid.focus();
      return;
    }
    $("#apply").disabled = true;
    say(status, "Running the pipeline…", "busy");
    const started = performance.now();
    try {
      const response = await call(`/image/filter?${query()}`, { method: "POST", body: state.file }, "image");
      const blob = await response.blob();
      const ms = Math.round(performance.now() - started);
      const type = response.headers.get("content-type") || "application/octet-stream";
      state.result = blob;
      state.resultName = `${state.file.name.replace(/\.[^.]*$/, "")}-filtered.${extension[type] || "bin"}`;
      const img = $("#after");
      if (img.src) URL.revokeObjectURL(img.src);
      img.src = URL.createObjectURL(blob);
      img.hidden = false;
      await img.decode().catch(() => {});
      $("#after-caption").textContent = `${type}: ${img.naturalWidth}×${img.naturalHeight}, ${bytes(blob.size)}`;
      const link = $("#download");
      link.href = img.src;
      link.download = state.resultName;
      link.hidden = false;
      $("#save").hidden = false;
      say(status, `Done in ${ms} ms.`);
    } catch (e) {
      say(status, e.message, "error");
    } finally {
      $("#apply").disabled = false;
    }
  }

  async function save() {
    const key = `images/${state.resultName}`;
    const region = $("#save-status");
    say(region, `Saving ${key}…`, "busy");
    try {
      await call(blobPath(key), { method: "PUT", body: state.result, headers: { "content-type": state.result.type } }, "file");
      region.replaceChildren();
      say(region, `Saved as ${key}. `);
      region.append(el("a", { href: `/drive?prefix=${encodeURIComponent("images/")}`, text: "Open it in the drive" }));
    } catch (e) {
      say(region, e.status === 401 ? "Saving to the drive needs an account: " : e.message, "error");
      if (e.status === 401) region.append(el("a", { href: `/login?next=${encodeURIComponent("/image-lab")}`, text: "log in" }));
    }
  }

  async function loadOps() {
    try {
      const response = await call("/image/ops");
      state.ops = (await response.json()).ops;
    } catch (e) {
      say(status, `The filter list could not be loaded. ${e.message}`, "error");
      return;
    }
    const select = $("#op");
    select.replaceChildren(...state.ops.map((op) => el("option", { value: op.name, text: op.form })));
    const help = () => { $("#op-help").textContent = state.ops.find((o) => o.name === select.value)?.description ?? ""; };
    select.addEventListener("change", help);
    help();
    $("#add").addEventListener("click", () => addStep(state.ops.find((o) => o.name === select.value)));
  }

  dropZone($("#drop"), $("#file"), (files) => showOriginal(files[0]));
  $("#apply").addEventListener("click", apply);
  $("#save").addEventListener("click", save);
  $("#format").addEventListener("change", refresh);
  $("#quality").addEventListener("input", refresh);
  loadOps().then(refresh);
})();
