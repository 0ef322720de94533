// The entity pop-up of the reading view, and moving between annotations with the keyboard.
// One click listener and one keydown listener on the reader, whatever the number of annotations.

import { applyDisplay } from "./common.js";
import { readingsHtml } from "./reader.js";

export class AnnotationPopup {
  constructor(reader, popupEl, statusEl, { extra } = {}) {
    this.reader = reader;
    this.el = popupEl;
    this.status = statusEl;
    this.extra = extra; // (indices) → extra HTML (e.g. actions in the annotator)
    this.current = -1;  // index into reader.sorted
    reader.el.addEventListener("click", (ev) => {
      if (window.getSelection && !window.getSelection().isCollapsed) return; // a selection, not a click
      const o = reader.offsetOf(ev.target);
      if (o === null) return;
      const found = reader.at(o);
      if (found.length && !reader.el.classList.contains("hide-ann")) this.open(found, reader.chars[o]);
      else this.close(false);
    });
    reader.el.addEventListener("keydown", (ev) => this.key(ev));
    popupEl.addEventListener("keydown", (ev) => { if (ev.key === "Escape") { ev.preventDefault(); this.close(true); } });
    document.addEventListener("click", (ev) => {
      if (!this.el.hidden && !this.el.contains(ev.target) && !reader.el.contains(ev.target)) this.close(false);
    });
  }

  async open(indices, anchor) {
    const r = this.reader;
    this.el.innerHTML = `<button type="button" class="close" aria-label="关闭 close">×</button>${readingsHtml(r, indices)}${this.extra ? this.extra(indices) : ""}`;
    const h = this.el.querySelector("h3");
    if (h) h.id = "popup-title";
    this.el.querySelector(".close").addEventListener("click", () => this.close(true));
    this.el.hidden = false;
    const box = anchor.getBoundingClientRect();
    const host = this.el.offsetParent?.getBoundingClientRect() || { left: 0, top: 0 };
    this.el.style.left = `${Math.max(0, box.left - host.left)}px`;
    this.el.style.top = `${box.bottom - host.top + 6}px`;
    await applyDisplay(this.el);
    (this.el.querySelector("a, button:not(.close)") || this.el.querySelector(".close")).focus({ preventScroll: true });
  }

  close(returnFocus) {
    if (this.el.hidden) return;
    this.el.hidden = true;
    if (returnFocus) this.reader.el.focus({ preventScroll: true });
  }

  /** N/P (or J/K): next/previous annotation; Enter: open it; Esc: close. */
  key(ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const r = this.reader;
    const k = ev.key.toLowerCase();
    if (k === "escape") { this.close(true); return; }
    if (!r.sorted.length) return;
    if (k === "n" || k === "j" || k === "p" || k === "k") {
      ev.preventDefault();
      const step = k === "n" || k === "j" ? 1 : -1;
      this.current = (this.current + step + r.sorted.length) % r.sorted.length;
      const s = r.spans[r.sorted[this.current]];
      r.mark(s.start, s.end, "cur");
      r.scrollTo(s.start);
      const first = s.readings?.[0] || {};
      this.status.textContent = `${this.current + 1}/${r.sorted.length} · ${r.text(s.start, s.end)} · ${first.label || first.category || ""}`;
    } else if ((k === "enter" || k === " ") && this.current >= 0) {
      ev.preventDefault();
      const s = r.spans[r.sorted[this.current]];
      this.open(r.at(s.start).filter((i) => i === r.sorted[this.current]).concat(r.at(s.start).filter((i) => i !== r.sorted[this.current])), r.chars[s.start]);
    }
  }
}
