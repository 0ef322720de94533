// The reading view of one juan: the service-level text with folio markers, printed line breaks
// and double-column commentary from the layout, and annotations as CSS classes.
//
// Offsets are Unicode code points into the juan text (as the API, search highlights and W3C
// TextPositionSelectors count them), never UTF-16 units: the text is split with Array.from(), and
// every code point is one <span data-o="N"> — so 𫝊 (two UTF-16 units) is one character here too.
// Rendering is one pass building one HTML string; annotations are classes on the characters; there
// is one listener on the container, none per annotation.

import { applyDisplay, esc } from "./common.js";

/** Private-use code points: where characters outside Unicode (外字) are written. */
export function isPrivateUse(cp) {
  return (cp >= 0xe000 && cp <= 0xf8ff) || (cp >= 0xf0000 && cp <= 0xffffd) || (cp >= 0x100000 && cp <= 0x10fffd);
}

export const CATEGORY_LABELS = { person: "人名", place: "地名", office: "職官", era: "年號", "book-title": "書名", event: "事件" };

/** The layout JSON ([offset, kind] or [offset, kind, source] in source order) grouped by offset. */
export function parseLayout(layoutJson) {
  const at = new Map();
  for (const entry of JSON.parse(layoutJson || "[]")) {
    const [offset, kind, source] = entry;
    if (kind === "c" || kind === "nl") continue;
    if (!at.has(offset)) at.set(offset, []);
    at.get(offset).push({ kind, source });
  }
  return at;
}

// double-column commentary: two stacked columns of small characters (side by side when vertical)
const NOTE_OPEN = '<span class="note"><span class="col">';
const NOTE_SPLIT = '</span><span class="col">';
const NOTE_CLOSE = "</span></span>";

function folioOf(source) {
  // <pb:GJ4a0001_MING_001-1a> → page id GJ4a0001_MING_001-1a → folio 1a (juan 001)
  const page = (source || "").replace(/^<(pb|md):/, "").replace(/>$/, "");
  const last = page.split("_").pop() || page;
  const folio = last.includes("-") ? last.split("-").pop() : last;
  const edition = page.split("_").length > 2 ? page.split("_")[1] : "";
  return { page, folio, edition };
}

export class Reader {
  constructor(container, { onChange } = {}) {
    this.el = container;
    this.onChange = onChange;
    this.cps = [];
    this.spans = [];      // annotations: {id, start, end, readings:[{category,label,authority}], certainty, status?}
    this.suggestions = []; // {start, end, label}
    this.highlights = [];  // [start, end) search matches
    this.chars = [];       // the <span data-o> of each code point
    this.stats = {};
  }

  /** Render the text (one pass); returns the milliseconds spent building and laying out. */
  render(textData, { spans = [], suggestions = [], highlights = [] } = {}) {
    const t0 = performance.now();
    this.data = textData;
    this.cps = Array.from(textData.text);
    this.spans = spans;
    this.suggestions = suggestions;
    this.highlights = highlights;
    this._index();
    const layout = parseLayout(textData.layout);
    const cls = this._classes();
    const parts = [];
    let lineChars = 0;
    let note = 0;
    const seenFolio = new Set();
    const n = this.cps.length;
    for (let i = 0; i <= n; i++) {
      const marks = layout.get(i);
      if (marks) {
        for (const m of marks) {
          if (m.kind === "lb" || m.kind === "pb") {
            // commentary may run over a line or page end: close its columns around the break
            if (note) parts.push(NOTE_CLOSE);
            if (lineChars > 0) parts.push("<br>");
            lineChars = 0;
            if (m.kind === "pb") {
              const f = folioOf(m.source);
              const id = seenFolio.has(f.folio) ? "" : ` id="f-${esc(f.folio)}"`;
              seenFolio.add(f.folio);
              parts.push(`<span class="pb folio-break"${id} data-page="${esc(f.page)}" title="葉 ${esc(f.folio)} · ${esc(f.page)}">${esc(f.folio)}</span>`);
            }
            if (note) parts.push(NOTE_OPEN);
          } else if (m.kind === "md") {
            const f = folioOf(m.source);
            parts.push(`<span class="md" title="${esc(f.page)}">${esc(f.edition)} ${esc(f.folio)}</span>`);
          } else if (m.kind === "(" && !note) { note = 1; parts.push(NOTE_OPEN); }
          else if (m.kind === "/" && note === 1) { note = 2; parts.push(NOTE_SPLIT); }
          else if (m.kind === ")" && note) { note = 0; parts.push(NOTE_CLOSE); }
        }
      }
      if (i === n) { if (note) parts.push(NOTE_CLOSE); break; }
      const c = this.cps[i];
      let k = cls[i];
      if (note) k += note === 1 ? " n1" : " n2";
      if (this.gaiji?.has(i)) {
        // a character outside Unicode: its glyph image, else its nearest character marked as such,
        // the IDS as a tooltip; still one <span data-o> per code point, so offsets stay the same
        const g = this.gaijiInfo.get(c);
        const tip = g ? [g.ids, g.code_point, g.nearest ? `≈ ${g.nearest}` : "", g.local_id].filter(Boolean).join(" · ") : "";
        if (g?.image) {
          parts.push(`<span data-o="${i}" class="${(k + " g gi").trim()}" title="${esc(tip)}"><img src="${esc(g.image)}" alt="${esc(g.nearest || g.code_point)}"></span>`);
        } else if (g?.nearest) {
          parts.push(`<span data-o="${i}" class="${(k + " g gn").trim()}" title="${esc(tip)}">${esc(g.nearest)}</span>`);
        } else {
          parts.push(`<span data-o="${i}" class="${(k + " g").trim()}"${tip ? ` title="${esc(tip)}"` : ""}>${c}</span>`);
        }
        lineChars++;
        continue;
      }
      parts.push(`<span data-o="${i}"${k ? ` class="${k.trim()}"` : ""}>${c === "<" ? "&lt;" : c === "&" ? "&amp;" : c === ">" ? "&gt;" : c}</span>`);
      lineChars++;
    }
    this.el.innerHTML = parts.join("");
    const t1 = performance.now();
    this.chars = Array.from(this.el.querySelectorAll("span[data-o]"));
    this.el.getBoundingClientRect(); // force style and layout, so the time includes them
    void this.el.scrollHeight;
    const t2 = performance.now();
    this.stats = { chars: n, annotations: spans.length, buildMs: t1 - t0, renderMs: t2 - t0 };
    return this.stats;
  }

  // -- annotation index ----------------------------------------------------------------------------

  _index() {
    const n = this.cps.length;
    this.top = new Int32Array(n).fill(-1);
    this.depth = new Uint8Array(n);
    this.sorted = this.spans.map((s, i) => i).sort((a, b) => this.spans[a].start - this.spans[b].start || this.spans[b].end - this.spans[a].end);
    this.maxLen = 0;
    for (const i of this.sorted) {
      const s = this.spans[i];
      this.maxLen = Math.max(this.maxLen, s.end - s.start);
      for (let o = Math.max(0, s.start); o < Math.min(n, s.end); o++) {
        // the innermost (shortest) annotation gives the colour
        const t = this.top[o];
        if (t < 0 || (this.spans[t].end - this.spans[t].start) >= (s.end - s.start)) this.top[o] = i;
        if (this.depth[o] < 255) this.depth[o]++;
      }
    }
    this.sgAt = new Uint8Array(n);
    for (const s of this.suggestions) for (let o = s.start; o < Math.min(n, s.end); o++) this.sgAt[o] = 1;
    this.hlAt = new Uint8Array(n);
    for (const [a, b] of this.highlights) for (let o = a; o < Math.min(n, b); o++) this.hlAt[o] = 1;
    this.gaiji = new Set();
    this.gaijiInfo = new Map((this.data?.gaiji || []).map((g) => [g.char, g]));
    for (let o = 0; o < n; o++) { if (isPrivateUse(this.cps[o].codePointAt(0))) this.gaiji.add(o); }
  }

  _classes() {
    const n = this.cps.length;
    const out = new Array(n);
    for (let o = 0; o < n; o++) {
      let k = "";
      const t = this.top[o];
      if (t >= 0) {
        const s = this.spans[t];
        k = `a k-${s.readings?.[0]?.category || "x"}`;
        if (this.depth[o] > 1) k += " m";
        if (s.certainty === "uncertain") k += " u";
        if (s.status && s.status !== "approved") k += ` st-${s.status}`;
      }
      if (this.sgAt[o]) k += " sg";
      if (this.hlAt[o]) k += " hl";
      out[o] = k;
    }
    return out;
  }

  /** Re-class the characters after the annotations or suggestions changed (no rebuild). */
  update({ spans, suggestions } = {}) {
    if (spans) this.spans = spans;
    if (suggestions) this.suggestions = suggestions;
    const keep = this.chars.map((el) => ({ n: el.classList.contains("n1") ? " n1" : el.classList.contains("n2") ? " n2" : "",
      g: el.classList.contains("g") ? ["g", "gi", "gn"].filter((x) => el.classList.contains(x)).join(" ") : "" }));
    this._index();
    const cls = this._classes();
    for (let o = 0; o < this.chars.length; o++) {
      const extra = ["sel", "caret", "caret-end", "cur"].filter((c) => this.chars[o].classList.contains(c)).join(" ");
      const k = `${cls[o]}${keep[o].n}${keep[o].g ? ` ${keep[o].g}` : ""} ${extra}`.trim().replace(/\s+/g, " ");
      if (this.chars[o].className !== k) this.chars[o].className = k;
    }
  }

  /** Annotations covering a character (innermost first). */
  at(offset) {
    const out = [];
    const sorted = this.sorted;
    let lo = 0, hi = sorted.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (this.spans[sorted[mid]].start <= offset) lo = mid + 1; else hi = mid; }
    for (let j = lo - 1; j >= 0; j--) {
      const s = this.spans[sorted[j]];
      if (s.start < offset - this.maxLen) break;
      if (s.end > offset) out.push(sorted[j]);
    }
    return out.sort((a, b) => (this.spans[a].end - this.spans[a].start) - (this.spans[b].end - this.spans[b].start));
  }

  offsetOf(node) {
    const el = node?.nodeType === 3 ? node.parentElement : node;
    const span = el?.closest?.("span[data-o]");
    return span && this.el.contains(span) ? Number(span.dataset.o) : null;
  }

  /** A DOM Range inside the reader → [start, end) in code points (null when outside or empty). */
  rangeToOffsets(range) {
    if (!range || !this.el.contains(range.commonAncestorContainer)) return null;
    const n = this.cps.length;
    const boundary = (node, offset, isEnd) => {
      if (node.nodeType === 3) {
        const o = this.offsetOf(node);
        if (o === null) return null;
        // inside one character's text node: before it (offset 0) or after it (offset past its units)
        return offset === 0 ? o : o + 1;
      }
      // an element boundary: the first character at or after child[offset]
      const child = node.childNodes[offset];
      let probe = child;
      while (probe) {
        const span = probe.nodeType === 1 ? (probe.matches("span[data-o]") ? probe : probe.querySelector("span[data-o]")) : null;
        if (span) return Number(span.dataset.o);
        probe = probe.nextSibling;
      }
      if (node === this.el || !child) {
        // past the last child: after the last character of this node (or the text)
        const spans = node.nodeType === 1 ? node.querySelectorAll("span[data-o]") : [];
        if (node.matches?.("span[data-o]")) return Number(node.dataset.o) + 1;
        return spans.length ? Number(spans[spans.length - 1].dataset.o) + 1 : (isEnd ? n : 0);
      }
      return isEnd ? n : 0;
    };
    const start = boundary(range.startContainer, range.startOffset, false);
    const end = boundary(range.endContainer, range.endOffset, true);
    if (start === null || end === null || end <= start) return null;
    return [start, Math.min(end, n)];
  }

  text(start, end) { return this.cps.slice(start, end).join(""); }

  mark(start, end, cls) {
    for (const el of this.el.querySelectorAll(`span.${cls}`)) el.classList.remove(cls);
    for (let o = start; o < end && o < this.chars.length; o++) this.chars[o].classList.add(cls);
  }

  scrollTo(offset) {
    const el = this.chars[Math.min(offset, this.chars.length - 1)];
    el?.scrollIntoView({ block: "center", inline: "center" });
  }

  async display() { await applyDisplay(this.el); }
}

/** The approved spans from /api/spans → reader spans (already the right shape). */
export function readingsHtml(reader, indices, { entityLink = true } = {}) {
  return indices.map((i) => {
    const s = reader.spans[i];
    const rs = (s.readings || []).map((r, k) => {
      const name = r.label ? `<span class="zh" lang="zh-Hant">${esc(r.label)}</span>` : "";
      const link = r.authority && entityLink ? ` <a href="/entity?iri=${encodeURIComponent(r.authority)}">实体页 entity</a>` : "";
      return `<div class="reading-item"><span class="cat k-${esc(r.category)}">${esc(CATEGORY_LABELS[r.category] || r.category)}</span> ${name}${link}
        ${k > 0 ? '<span class="small">（异读 alternative reading）</span>' : ""}${r.note ? `<div class="small">${esc(r.note)}</div>` : ""}</div>`;
    }).join("");
    const unc = s.certainty === "uncertain" ? ' <span class="badge">存疑 uncertain</span>' : "";
    const st = s.status && s.status !== "approved" ? ` <span class="st st-${esc(s.status)}">${esc(s.status)}</span>` : "";
    return `<section class="popup-ann"><h3 class="zh" lang="zh-Hant">${esc(reader.text(s.start, s.end))}</h3>
      <p class="small">${s.start}–${s.end}${unc}${st}</p>${rs}</section>`;
  }).join("");
}
