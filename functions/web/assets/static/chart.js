// Two small SVG charts for the dashboard, drawn by hand (no library): a line
// chart of series over shared x labels, and stacked bars. Exposed as `cfChart`.
"use strict";
const cfChart = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const W = 640, H = 240, PAD = { left: 40, right: 24, top: 12, bottom: 28 };

  function node(tag, attrs = {}, text) {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text != null) n.textContent = text;
    return n;
  }

  function frame(svg, labels, yMin, yMax, yTicks, title) {
    svg.replaceChildren(node("title", {}, title));
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("role", "img");
    const x = (i) => PAD.left + (labels.length <= 1 ? (W - PAD.left - PAD.right) / 2
      : (i * (W - PAD.left - PAD.right)) / (labels.length - 1));
    const y = (v) => PAD.top + ((yMax - v) * (H - PAD.top - PAD.bottom)) / (yMax - yMin || 1);
    for (const t of yTicks) {
      svg.append(node("line", { x1: PAD.left, x2: W - PAD.right, y1: y(t), y2: y(t), stroke: "#e5e7eb" }));
      svg.append(node("text", { x: PAD.left - 6, y: y(t) + 4, "text-anchor": "end" }, String(t)));
    }
    const every = Math.max(1, Math.ceil(labels.length / 8));
    labels.forEach((label, i) => {
      if (i % every === 0 || i === labels.length - 1) {
        svg.append(node("text", { x: x(i), y: H - 8, "text-anchor": "middle" }, label));
      }
    });
    return { x, y };
  }

  /** series: [{name, color, values: [number|null per label]}] */
  function line(svg, labels, series, { min = -1, max = 1, ticks = [-1, -0.5, 0, 0.5, 1], title = "" } = {}) {
    const { x, y } = frame(svg, labels, min, max, ticks, title);
    for (const s of series) {
      let d = "";
      s.values.forEach((v, i) => {
        if (v == null) return;
        d += `${d && s.values[i - 1] != null ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
        const point = node("circle", { cx: x(i), cy: y(v), r: 3, fill: s.color });
        point.append(node("title", {}, `${s.name} ${labels[i]}: ${v.toFixed(3)}`));
        svg.append(point);
      });
      svg.append(node("path", { d, fill: "none", stroke: s.color, "stroke-width": 2, "data-series": s.name }));
    }
  }

  /** stacks: [{name, color, values: [count per label]}], drawn bottom-up. */
  function bars(svg, labels, stacks, { title = "" } = {}) {
    const totals = labels.map((_, i) => stacks.reduce((sum, s) => sum + s.values[i], 0));
    const top = Math.max(1, ...totals);
    const step = Math.pow(10, Math.floor(Math.log10(top)));
    const max = Math.ceil(top / step) * step;
    const ticks = Number.isInteger(max / 2) ? [0, max / 2, max] : [0, max];
    const { x, y } = frame(svg, labels, 0, max, ticks, title);
    const width = Math.max(1, Math.min(36, ((W - PAD.left - PAD.right) / Math.max(labels.length, 1)) * 0.6));
    labels.forEach((label, i) => {
      let base = 0;
      for (const s of stacks) {
        const v = s.values[i];
        if (!v) continue;
        const rect = node("rect", { x: x(i) - width / 2, y: y(base + v), width, height: y(base) - y(base + v), fill: s.color });
        rect.append(node("title", {}, `${label}: ${v} ${s.name}`));
        svg.append(rect);
        base += v;
      }
    });
  }

  return { line, bars };
})();
