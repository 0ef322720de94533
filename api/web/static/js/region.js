// The image region of an annotation (templates/_region.html): pick a page of the book's manifest,
// drag a box on it; annotate.js adds the region as a second target (a SpecificResource on the IIIF
// canvas with a Media Fragments FragmentSelector), so the annotation marks the span and the region.

const tool = document.getElementById("region-tool");
const MEDIA_FRAGMENTS = "http://www.w3.org/TR/media-frags/";

class RegionTool {
  constructor(tool, manifest) {
    this.tool = tool;
    this.pages = manifest.items.map((c) => ({
      id: c.id, width: c.width, height: c.height, label: (c.label.zh || c.label.en)[0],
      pageId: (c.metadata || []).find((m) => (m.label.en || [])[0] === "page id")?.value?.none?.[0] || null,
      service: c.items[0].items[0].body.service[0].id,
    }));
    this.select = document.getElementById("region-page");
    this.img = document.getElementById("region-img");
    this.box = document.getElementById("region-box");
    this.out = document.getElementById("region-value");
    this.region = null; // [x, y, w, h] in canvas pixels
  }

  start() {
    for (const [i, p] of this.pages.entries()) this.select.add(new Option(p.label, String(i)));
    this.select.addEventListener("change", () => this.show(Number(this.select.value)));
    document.getElementById("region-clear").addEventListener("click", () => this.clear());
    const stage = document.getElementById("region-stage");
    let from = null;
    const at = (ev) => {
      const r = this.img.getBoundingClientRect();
      return [Math.min(Math.max(ev.clientX - r.left, 0), r.width), Math.min(Math.max(ev.clientY - r.top, 0), r.height)];
    };
    stage.addEventListener("pointerdown", (ev) => { from = at(ev); stage.setPointerCapture(ev.pointerId); ev.preventDefault(); });
    stage.addEventListener("pointermove", (ev) => { if (from) this.draw(from, at(ev)); });
    stage.addEventListener("pointerup", (ev) => {
      if (!from) return;
      const to = at(ev);
      this.draw(from, to);
      this.commit(from, to);
      from = null;
    });
    this.show(0);
    this.tool.hidden = false;
    window.gujiRegion = this; // annotate.js asks it for the image target
    this.tool.dataset.ready = "true";
  }

  /** The page whose folio marker precedes the selected span, when the reader has one. */
  followSelection(start) {
    const markers = [...document.querySelectorAll("#reader .folio-break[data-page]")];
    let page = null;
    for (const m of markers) {
      let next = m.nextElementSibling;
      for (let n = 0; next && next.dataset.o === undefined && n < 50; n++) next = next.nextElementSibling;
      const o = Number(next?.dataset.o ?? NaN);
      if (!Number.isNaN(o) && o <= start) page = m.dataset.page;
    }
    const i = this.pages.findIndex((p) => p.pageId === page);
    if (i >= 0 && String(i) !== this.select.value && !this.region) { this.select.value = String(i); this.show(i); }
  }

  show(i) {
    this.current = this.pages[i];
    this.img.src = `${this.current.service}/full/!600,900/0/default.jpg`;
    this.clear();
  }

  draw(a, b) {
    const [x, y] = [Math.min(a[0], b[0]), Math.min(a[1], b[1])];
    Object.assign(this.box.style, { left: `${x}px`, top: `${y}px`, width: `${Math.abs(a[0] - b[0])}px`, height: `${Math.abs(a[1] - b[1])}px` });
    this.box.hidden = false;
  }

  commit(a, b) {
    const scale = this.current.width / this.img.getBoundingClientRect().width;
    const x = Math.round(Math.min(a[0], b[0]) * scale), y = Math.round(Math.min(a[1], b[1]) * scale);
    const w = Math.round(Math.abs(a[0] - b[0]) * scale), h = Math.round(Math.abs(a[1] - b[1]) * scale);
    if (w < 4 || h < 4) { this.clear(); return; }
    this.region = [x, y, w, h];
    this.out.textContent = `xywh=${this.region.join(",")}`;
  }

  clear() {
    this.region = null;
    this.box.hidden = true;
    this.out.textContent = "";
  }

  /** The second target of the annotation, or null when no box is drawn. */
  target() {
    if (!this.region) return null;
    return { type: "SpecificResource", source: this.current.id,
             selector: { type: "FragmentSelector", conformsTo: MEDIA_FRAGMENTS, value: `xywh=${this.region.join(",")}` } };
  }
}

async function init() {
  const r = await fetch(tool.dataset.manifest, { headers: { Accept: "application/json" } });
  if (!r.ok) return; // no page images: no region tool
  new RegionTool(tool, await r.json()).start();
}

if (tool) init().catch((e) => console.error(e));
