// cloudfn web: what every page shares — element building, sizes, calling a
// function and turning its refusals into words. Exposed as the global `cf`.
"use strict";
const cf = (() => {
  /** `el("a", {href: "/"}, "text", child)`: attributes starting with `on` are listeners. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === false || value == null) continue;
      if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child != null) node.append(child);
    }
    return node;
  }

  const $ = (selector, root = document) => root.querySelector(selector);

  /** 1536 → "1.5 KiB". */
  function bytes(n) {
    if (n < 1024) return `${n} B`;
    const units = ["KiB", "MiB", "GiB", "TiB"];
    let value = n / 1024, unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
  }

  /** A function's refusal, in words. */
  class FunctionError extends Error {
    constructor(status, message, detail = "") { super(message); this.status = status; this.detail = detail; }
  }

  const megapixels = (n) => {
    const mp = Number(n) / 1e6;
    return mp >= 10 ? Math.round(mp).toLocaleString("en") : mp.toFixed(1).replace(/\.0$/, "");
  };

  /** What a response that is not OK means to the person who sent it. */
  function describe(status, text, retryAfter, what = "request") {
    const detail = text.trim();
    const pixels = /(\d+) pixels exceeds the limit of (\d+)/.exec(detail);
    const byteLimit = /(\d+) bytes exceeds the limit of (\d+)/.exec(detail);
    switch (status) {
      case 413:
        if (pixels) {
          return `This image is larger than the ${megapixels(pixels[2])}-megapixel limit ` +
            `(it has ${megapixels(pixels[1])} megapixels).`;
        }
        if (byteLimit) return `This ${what} is larger than the ${bytes(Number(byteLimit[2]))} limit.`;
        return `This ${what} is too large: ${detail}`;
      case 415: return `This file is not an image the filter can read: ${detail}`;
      case 400: return `The ${what} was refused: ${detail}`;
      case 401: return `You are not logged in (or your session ended): ${detail}`;
      case 403: return `Refused: ${detail}`;
      case 409: return `Already taken: ${detail}`;
      case 429: return `Too many attempts${retryAfter ? `; try again in ${retryAfter} s` : ""}: ${detail}`;
      case 507: return `Not enough space in your drive: ${detail}`;
      case 404: return `Not found: ${detail}`;
      case 412: return `Something already exists there: ${detail}`;
      case 503: return `The platform is busy${retryAfter ? `; try again in ${retryAfter} s` : ""}: ${detail}`;
      case 504: return `The function took too long: ${detail}`;
      default: return `The function answered ${status}: ${detail || "no details"}`;
    }
  }

  /** Calls a function; resolves to the response, or throws a FunctionError in words. */
  async function call(url, options = {}, what = "request") {
    let response;
    try {
      response = await fetch(url, options);
    } catch (e) {
      throw new FunctionError(0, `Could not reach ${url}: ${e.message}. Is cloudfn up running?`);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => "");
      throw new FunctionError(response.status,
        describe(response.status, text, response.headers.get("retry-after"), what), text.trim());
    }
    return response;
  }

  /** Shows a message in a status region: kind is "ok", "error" or "busy". */
  function say(region, message, kind = "ok") {
    region.className = `status ${kind}`;
    region.setAttribute("role", kind === "error" ? "alert" : "status");
    region.textContent = message;
  }

  /** Lets a drop zone take files as its file input does. */
  function dropZone(zone, input, onFiles) {
    zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("over");
      if (e.dataTransfer.files.length) onFiles([...e.dataTransfer.files]);
    });
    input.addEventListener("change", () => { if (input.files.length) onFiles([...input.files]); });
  }

  /** A key's path segments, each percent-encoded, for a URL under /blobs/. */
  const blobPath = (key) => `/blobs/${key.split("/").map(encodeURIComponent).join("/")}`;

  /** Where to go after logging in: `?next=` when it is a path on this site, else the drive. */
  function nextPage() {
    const next = new URLSearchParams(location.search).get("next") || "";
    return /^\/(?![\/\\])/.test(next) ? next : "/drive";
  }

  /** Sends a logged-out visitor to the login page, to come back here after. */
  function logIn() {
    location.replace(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
  }

  /** JSON in, JSON (or nothing) out, for the account routes. */
  async function send(method, url, body, what) {
    const options = { method, headers: {} };
    if (body !== undefined) {
      options.headers["content-type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await call(url, options, what);
    return response.status === 204 ? null : response.json();
  }

  return { el, $, bytes, call, send, describe, say, dropZone, blobPath, nextPage, logIn, FunctionError };
})();
