// Page images beside the text (templates/_viewer.html): an IIIF viewer (OpenSeadragon, from npm)
// driven by the book's Presentation 3 manifest. Pages run right to left (the next folio is to the
// left, as in the book); the table of contents comes from the manifest's ranges; the text and the
// image follow each other by folio: scroll the text and the page turns, turn the page and the text
// scrolls to that folio's marker.

const fig = document.getElementById("viewer");
const metaValue = (canvas, en) =>
  (canvas.metadata || []).find((m) => (m.label.en || [])[0] === en)?.value?.none?.[0] ?? null;

function pagesOf(manifest) {
  return manifest.items.map((c, index) => {
    const body = c.items[0].items[0].body;
    return {
      index, id: c.id, width: c.width, height: c.height,
      label: (c.label.zh || c.label.en || [""])[0],
      folio: metaValue(c, "folio"), pageId: metaValue(c, "page id"),
      regions: (c.annotations || []).flatMap((page) => page.items || []).map((a) => {
        const [x, y, w, h] = String(a.target).split("#xywh=")[1]?.split(",").map(Number) || [];
        const text = (a.body || []).find((b) => b.type === "TextualBody")?.value || "";
        return { id: a.id, x, y, w, h, text };
      }).filter((r) => Number.isFinite(r.h)),
      service: body.service[0].id, thumbnail: (c.thumbnail || [])[0]?.id || `${body.service[0].id}/full/!200,200/0/default.jpg`,
    };
  });
}

class PageViewer {
  constructor(fig, manifest) {
    this.fig = fig;
    this.manifest = manifest;
    this.pages = pagesOf(manifest);
    this.current = -1;
    this.reader = document.getElementById("reader");
    this.canvas = document.getElementById("viewer-canvas");
    this.label = document.getElementById("viewer-page");
    this.sync = document.getElementById("viewer-sync");
    this.quietUntil = 0; // ignore the scroll events our own scrolling causes
    this.osd = null;
  }

  start() {
    this.fig.hidden = false;
    this.fig.parentElement.classList.add("with-images");
    if (this.fig.dataset.osd === "true" && window.OpenSeadragon) {
      this.osd = window.OpenSeadragon({
        element: this.canvas, prefixUrl: "/static/vendor/openseadragon/images/",
        tileSources: this.pages.map((p) => `${p.service}/info.json`),
        sequenceMode: true, showSequenceControl: false, showNavigator: false, preserveViewport: false,
        showRotationControl: true, gestureSettingsMouse: { clickToZoom: false },
      });
      this.osd.addHandler("page", (e) => this.shown(e.page, "viewer"));
      this.osd.addHandler("open", () => {
        this.overlays();
        this.fig.dataset.opened = String(Number(this.fig.dataset.opened || 0) + 1);
      });
    }
    this.toc();
    this.strip();
    document.getElementById("viewer-next").addEventListener("click", () => this.go(this.current + 1));
    document.getElementById("viewer-prev").addEventListener("click", () => this.go(this.current - 1));
    this.canvas.addEventListener("keydown", (e) => {
      if (e.key === "ArrowLeft") { this.go(this.current + 1); e.preventDefault(); } // right to left: next is on the left
      if (e.key === "ArrowRight") { this.go(this.current - 1); e.preventDefault(); }
    });
    this.go(0, "start");
    this.followText();
    this.fig.dataset.ready = "true";
  }

  toc() {
    const ol = document.getElementById("viewer-toc");
    for (const range of this.manifest.structures || []) {
      const first = this.pages.findIndex((p) => p.id === range.items[0]?.id);
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "link";
      b.textContent = `${(range.label.zh || range.label.en)[0]}（${range.items.length} 葉面）`;
      b.addEventListener("click", () => this.go(first));
      li.append(b);
      ol.append(li);
    }
  }

  strip() {
    const ol = document.getElementById("viewer-strip");
    this.thumbs = this.pages.map((p) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.title = p.label;
      b.setAttribute("aria-label", p.label); // the name of a button that only shows a thumbnail
      b.dataset.index = p.index;
      const img = document.createElement("img");
      img.alt = p.label;
      img.loading = "lazy";
      img.height = 72;
      img.width = Math.round((72 * p.width) / p.height); // the strip has its size before the thumbnails load
      img.src = p.thumbnail;
      b.append(img);
      b.addEventListener("click", () => this.go(p.index));
      li.append(b);
      ol.append(li);
      return b;
    });
  }

  go(index, why = "user") {
    if (index < 0 || index >= this.pages.length || index === this.current) return;
    this.shown(index, why === "text" ? "text" : "viewer"); // first: the "page" event OpenSeadragon fires is then a no-op
    if (this.osd) this.osd.goToPage(index);
    else this.fallback(index);
  }

  /** Approved image-region annotations of the page on view, as outlined boxes over the image. */
  overlays() {
    const p = this.pages[this.current];
    if (!this.osd || !p) return;
    this.osd.clearOverlays();
    for (const r of p.regions) {
      const box = document.createElement("a");
      box.className = "region";
      box.title = r.text;
      box.href = `/annotations/${encodeURIComponent(r.id.split("/").pop())}`;
      box.dataset.annotation = r.id;
      box.setAttribute("aria-label", `标注区域 annotated region: ${r.text}`);
      this.osd.addOverlay({ element: box, location: this.osd.viewport.imageToViewportRectangle(r.x, r.y, r.w, r.h) });
    }
  }

  fallback(index) {
    const p = this.pages[index];
    this.canvas.replaceChildren();
    const img = document.createElement("img");
    img.className = "fallback";
    img.alt = p.label;
    // !w,h may not upscale (IIIF Image API 3: that needs ^): a page smaller than the box is asked for whole
    const fits = Number.isFinite(p.width) && Number.isFinite(p.height) && p.width <= 900 && p.height <= 1200;
    img.src = `${p.service}/full/${fits ? "max" : "!900,1200"}/0/default.jpg`;
    this.canvas.append(img);
  }

  shown(index, from) {
    if (index === this.current) return;
    this.current = index;
    const p = this.pages[index];
    this.label.textContent = `${p.label} · ${index + 1}/${this.pages.length}`;
    this.fig.dataset.page = String(index);
    this.fig.dataset.folio = p.folio || "";
    this.thumbs?.forEach((t, i) => t.setAttribute("aria-current", i === index ? "true" : "false"));
    if (from !== "text" && this.sync.checked) this.scrollTextTo(p);
    this.markFolio(p);
  }

  marker(p) {
    return p.pageId ? this.reader?.querySelector(`.folio-break[data-page="${CSS.escape(p.pageId)}"]`) : null;
  }

  markFolio(p) {
    this.reader?.querySelectorAll(".folio-break.current").forEach((m) => m.classList.remove("current"));
    this.marker(p)?.classList.add("current");
  }

  scrollTextTo(p) {
    const m = this.marker(p);
    if (!m) return;
    this.quietUntil = performance.now() + 400;
    const box = this.reader.getBoundingClientRect(), at = m.getBoundingClientRect();
    if (this.reader.classList.contains("vertical")) this.reader.scrollLeft += at.right - box.right + 8;
    else this.reader.scrollTop += at.top - box.top - 4;
    this.placed = [this.reader.scrollTop, this.reader.scrollLeft]; // where we put the text (it may not go that far)
  }

  /** The folio being read: the last marker above the upper third of the reader (its right third in
   * vertical text); at the end of the text, the last marker in view; above the first, the first. */
  folioInView() {
    const r = this.reader, box = r.getBoundingClientRect();
    const vertical = r.classList.contains("vertical");
    const markers = [...r.querySelectorAll(".folio-break[data-page]")];
    if (!markers.length) return null;
    const atEnd = vertical ? Math.abs(r.scrollLeft) + r.clientWidth >= r.scrollWidth - 2 : r.scrollTop + r.clientHeight >= r.scrollHeight - 2;
    let seen = markers[0].dataset.page;
    for (const m of markers) {
      const at = m.getBoundingClientRect();
      const passed = atEnd ? (vertical ? at.left > box.left : at.top < box.bottom)
        : (vertical ? at.right >= box.right - Math.min(box.width / 3, 200) : at.top <= box.top + Math.min(box.height / 3, 200));
      if (passed) seen = m.dataset.page;
      else break;
    }
    return seen;
  }

  followText() {
    if (!this.reader) return;
    let pending = false, later = null;
    const follow = () => {
      pending = false;
      const page = this.folioInView();
      const index = this.pages.findIndex((p) => p.pageId === page);
      if (index >= 0 && index !== this.current) this.go(index, "text");
    };
    this.reader.addEventListener("scroll", () => {
      if (pending || !this.sync.checked) return;
      const quiet = this.quietUntil - performance.now();
      if (quiet > 0) { // our own scrolling; look again once it is over, in case the reader scrolled too
        clearTimeout(later);
        later = setTimeout(() => {
          const [top, left] = this.placed || [null, null];
          const moved = top === null || Math.abs(this.reader.scrollTop - top) > 2 || Math.abs(this.reader.scrollLeft - left) > 2;
          if (this.sync.checked && moved) follow(); // the reader scrolled away from where the page turn put it
        }, quiet + 20);
        return;
      }
      pending = true;
      requestAnimationFrame(follow);
    }, { passive: true });
  }
}

async function init() {
  const r = await fetch(fig.dataset.manifest, { headers: { Accept: "application/json" } });
  if (!r.ok) { fig.dataset.ready = "none"; return; } // no page images: the text stays alone
  const viewer = new PageViewer(fig, await r.json());
  window.gujiViewer = viewer; // for the browser tests and the curious
  viewer.start();
}

if (fig) init().catch((e) => { fig.dataset.ready = "error"; console.error(e); });
