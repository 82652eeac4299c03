// What test_layout.py measures in the editor: every top-bar control that is shown and what
// would hide part of it (another control over it, the window's edge, an ancestor that clips),
// the canvas's banners, the canvas's share of the width, the title's characters shown whole
// and chart headings that wrap. A function expression, for page.evaluate (the page's CSP
// forbids eval of a string of statements).
() => {
  const bar = document.querySelector(".topbar");
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const sel = "button, select, a, .save-state, .clock-box, .account-name";
  const all = [...bar.querySelectorAll(sel)].filter(shown).filter((el) => !el.closest("[hidden], .dropdown"));
  const controls = all.filter((el) => !all.some((o) => o !== el && o.contains(el)));
  const name = (el) => el.dataset.testid || el.id || el.className;
  const box = (el) => el.getBoundingClientRect();
  const overlaps = [];
  for (let i = 0; i < controls.length; i++) {
    for (let j = i + 1; j < controls.length; j++) {
      const a = box(controls[i]), b = box(controls[j]);
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 0.5 && h > 0.5) overlaps.push(`${name(controls[i])} / ${name(controls[j])}`);
    }
  }
  // the canvas's banners (connection lost, live run) neither overlap nor leave the canvas
  const stage = box(document.getElementById("stage-canvas"));
  const banners = [...document.querySelectorAll(".stage-banners > *")].filter(shown);
  banners.forEach((el, i) => {
    const a = box(el);
    if (a.left < stage.left - 0.5 || a.right > stage.right + 0.5) overlaps.push(`${name(el)} past the canvas`);
    if (el.scrollWidth > el.clientWidth + 1) overlaps.push(`${name(el)} cut inside`);
    for (const other of banners.slice(i + 1)) {
      const b = box(other);
      if (Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5) overlaps.push(`${name(el)} / ${name(other)}`);
    }
  });
  const clipped = [];
  for (const el of controls) {
    const r = box(el);
    if (r.left < -0.5 || r.right > innerWidth + 0.5 || r.top < -0.5) clipped.push(`${name(el)} by the window`);
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX === "visible") continue;
      const c = box(p);
      if (r.left < c.left - 0.5 || r.right > c.right + 0.5) clipped.push(`${name(el)} by ${name(p)}`);
    }
  }
  // the title: how many of its characters are shown whole (the rest is an ellipsis)
  const doc = document.getElementById("doc-name");
  let titleChars = 0;
  if (shown(doc) && doc.firstChild) {
    const text = doc.firstChild, range = document.createRange();
    const d = box(doc), pad = parseFloat(getComputedStyle(doc).paddingRight);
    const room = d.right - pad - (doc.scrollWidth > doc.clientWidth ? 14 : 0); // the "…"
    for (let i = 1; i <= text.length; i++) {
      range.setStart(text, 0);
      range.setEnd(text, i);
      if (range.getBoundingClientRect().right > room + 0.5) break;
      titleChars = i;
    }
  }
  const heads = [...document.querySelectorAll(".chart-head")].filter(shown);
  return {
    overlaps, clipped, titleChars, controls: controls.length,
    canvasShare: box(document.getElementById("stage-canvas")).width / innerWidth,
    wrappedHeads: heads.filter((h) => box(h).height > 26).map((h) => h.textContent),
    scrollsSideways: document.documentElement.scrollWidth > innerWidth,
  };
}
