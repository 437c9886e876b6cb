/**
 * Scripts run inside the page. They are plain strings, not functions: a
 * function would be serialised from compiled code, and a transpiler's helper
 * (tsx's `__name`) would then be missing in the page.
 */

/** One interactive element as listed to the model: the index it is marked with and where to click it. */
export interface InteractiveElement {
  index: number
  tag: string
  /** An `<input>`'s type. */
  inputType: string | null
  /** Its visible text, else its placeholder, aria-label, title, name or value (at most 120 characters). */
  text: string
  /** Viewport CSS pixels (the screenshot's pixels: the device scale factor is 1). */
  left: number
  top: number
  width: number
  height: number
  centerX: number
  centerY: number
}

export interface ElementScan {
  elements: InteractiveElement[]
  viewport: { width: number; height: number; scrollY: number; scrollHeight: number }
}

/** The attribute an element carries while it holds an index, so select tools find it again. */
export const INDEX_ATTRIBUTE = 'data-berth-index'

/**
 * Find the visible interactive elements of the viewport and number them, as
 * the reference marks them: links, buttons, form fields, ARIA widgets and
 * anything with a click handler or a pointer cursor; at least 30 % inside the
 * viewport, not disabled, not covering half the screen, on top at its centre;
 * overlapping duplicates folded (the larger or weightier one stays); then
 * numbered in reading order (rows of 20 px, left to right).
 */
export const FIND_ELEMENTS_SCRIPT = `(() => {
  const ATTR = ${JSON.stringify(INDEX_ATTRIBUTE)};
  for (const old of document.querySelectorAll('[' + ATTR + ']')) old.removeAttribute(ATTR);
  const W = window.innerWidth, H = window.innerHeight;
  const WEIGHTS = { a: 10, button: 10, input: 10, select: 10, textarea: 10, summary: 8, li: 8, details: 7, option: 7,
    label: 5, tr: 4, svg: 3, td: 3, th: 3, img: 2, div: 2, span: 1 };
  const SELECTOR = 'a[href], button, input:not([type=hidden]), select, textarea, summary, details, [role=button], ' +
    '[role=link], [role=checkbox], [role=radio], [role=tab], [role=menuitem], [role=option], [role=switch], ' +
    '[role=combobox], [role=textbox], [contenteditable=""], [contenteditable=true], [onclick], [tabindex]:not([tabindex="-1"])';
  const seen = new Set();
  const found = [];
  const visibleShare = (r) => {
    if (r.width < 2 || r.height < 2) return 0;
    const w = Math.min(r.right, W) - Math.max(r.left, 0);
    const h = Math.min(r.bottom, H) - Math.max(r.top, 0);
    return w <= 0 || h <= 0 ? 0 : (w * h) / (r.width * r.height);
  };
  const onTop = (el, r) => {
    const cx = Math.min(Math.max(r.left + r.width / 2, 0), W - 1);
    const cy = Math.min(Math.max(r.top + r.height / 2, 0), H - 1);
    const root = el.getRootNode();
    const hit = (root && root.elementFromPoint ? root : document).elementFromPoint(cx, cy);
    return !!hit && (hit === el || el.contains(hit) || hit.contains(el));
  };
  const zIndexOf = (el) => {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.position !== 'static' && s.zIndex !== 'auto') return parseInt(s.zIndex, 10) || 0;
    }
    return 0;
  };
  const consider = (el, baseWeight) => {
    if (seen.has(el)) return;
    seen.add(el);
    const r = el.getBoundingClientRect();
    if (visibleShare(r) < 0.3) return;
    if (el.hasAttribute('disabled') || el.getAttribute('aria-disabled') === 'true') return;
    const w = Math.min(r.right, W) - Math.max(r.left, 0), h = Math.min(r.bottom, H) - Math.max(r.top, 0);
    if ((w * h) / (W * H) > 0.5) return;
    if (!onTop(el, r)) return;
    const tag = el.tagName.toLowerCase();
    let weight = baseWeight ?? WEIGHTS[tag] ?? 1;
    if (el.getAttribute('role') === 'button') weight = Math.max(weight, 8);
    if (el.hasAttribute('onclick')) weight = Math.max(weight, 7);
    if (el.hasAttribute('href')) weight = Math.max(weight, 8);
    found.push({ el, r, weight, z: zIndexOf(el) });
  };
  const walk = (root) => {
    for (const el of root.querySelectorAll(SELECTOR)) consider(el);
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
  };
  walk(document);
  // Elements that only say they are clickable by their cursor (the outermost one of a pointer area).
  const all = document.body ? document.body.getElementsByTagName('*') : [];
  for (let i = 0; i < all.length && i < 20000; i++) {
    const el = all[i];
    if (seen.has(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.bottom < 0 || r.top > H || r.right < 0 || r.left > W) continue;
    if (getComputedStyle(el).cursor !== 'pointer') continue;
    const parent = el.parentElement;
    if (parent && getComputedStyle(parent).cursor === 'pointer') continue;
    consider(el, 1);
  }
  const area = (f) => f.r.width * f.r.height;
  found.sort((a, b) => area(b) - area(a) || b.weight - a.weight);
  const kept = [];
  for (const f of found) {
    const dup = kept.some((k) => {
      const l = Math.max(f.r.left, k.r.left), t = Math.max(f.r.top, k.r.top);
      const rr = Math.min(f.r.right, k.r.right), bb = Math.min(f.r.bottom, k.r.bottom);
      const inter = rr > l && bb > t ? (rr - l) * (bb - t) : 0;
      if (inter / (area(f) + area(k) - inter) > 0.7) return true;
      const inside = f.r.left >= k.r.left && f.r.right <= k.r.right && f.r.top >= k.r.top && f.r.bottom <= k.r.bottom;
      return inside && k.weight >= f.weight && k.z === f.z;
    });
    if (!dup) kept.push(f);
  }
  kept.sort((a, b) => a.r.top - b.r.top);
  const rows = [];
  for (const f of kept) {
    const row = rows[rows.length - 1];
    if (row && Math.abs(f.r.top - row[row.length - 1].r.top) <= 20) row.push(f);
    else rows.push([f]);
  }
  const ordered = rows.flatMap((row) => row.sort((a, b) => a.r.left - b.r.left));
  const label = (el) => {
    const text = (el.innerText || el.textContent || '').replace(/\\s+/g, ' ').trim();
    if (text) return text;
    for (const name of ['placeholder', 'aria-label', 'title', 'alt', 'name']) {
      const v = el.getAttribute(name);
      if (v) return v.trim();
    }
    return typeof el.value === 'string' ? el.value : '';
  };
  const elements = ordered.map((f, index) => {
    f.el.setAttribute(ATTR, String(index));
    const tag = f.el.tagName.toLowerCase();
    const left = Math.round(f.r.left), top = Math.round(f.r.top);
    return {
      index, tag,
      inputType: tag === 'input' ? (f.el.getAttribute('type') || 'text').toLowerCase() : null,
      text: label(f.el).slice(0, 120),
      left, top, width: Math.round(f.r.width), height: Math.round(f.r.height),
      centerX: Math.round(f.r.left + f.r.width / 2), centerY: Math.round(f.r.top + f.r.height / 2),
    };
  });
  return {
    elements,
    viewport: { width: W, height: H, scrollY: Math.round(window.scrollY),
      scrollHeight: Math.round(document.documentElement ? document.documentElement.scrollHeight : H) },
  };
})()`

const OVERLAY_ID = 'berth-element-marks'

/** Boxes and index labels over the listed elements, for the screenshot only (pointer-events: none). */
export function drawMarksScript(elements: readonly InteractiveElement[]): string {
  const marks = elements.map((e) => [e.index, e.left, e.top, e.width, e.height])
  return `(() => {
  const COLORS = ['#cc0000', '#008800', '#0000cc', '#cc7000', '#660066', '#006666', '#cc3399', '#2c0066', '#1c6642', '#24527b'];
  const host = document.createElement('div');
  host.id = ${JSON.stringify(OVERLAY_ID)};
  host.style.cssText = 'position:fixed;inset:0;z-index:2147483647;pointer-events:none;';
  const shadow = host.attachShadow({ mode: 'closed' });
  for (const [index, left, top, width, height] of ${JSON.stringify(marks)}) {
    const color = COLORS[index % COLORS.length];
    const box = document.createElement('div');
    box.style.cssText = 'position:fixed;box-sizing:border-box;border:2px solid ' + color + ';left:' + left + 'px;top:' +
      top + 'px;width:' + width + 'px;height:' + height + 'px;';
    const tag = document.createElement('div');
    tag.textContent = String(index);
    tag.style.cssText = 'position:absolute;right:0;top:0;background:' + color +
      ';color:#fff;font:bold 11px/13px sans-serif;padding:0 3px;';
    box.appendChild(tag);
    shadow.appendChild(box);
  }
  (document.documentElement || document).appendChild(host);
})()`
}

export const REMOVE_MARKS_SCRIPT = `document.getElementById(${JSON.stringify(OVERLAY_ID)})?.remove()`

/** The page's rendered text (what a reader sees: hidden elements left out) and where the viewport is. */
export const PAGE_TEXT_SCRIPT = `(() => ({
  text: document.body ? document.body.innerText : (document.documentElement ? document.documentElement.innerText : ''),
  scrollY: Math.round(window.scrollY),
  scrollHeight: Math.round(document.documentElement ? document.documentElement.scrollHeight : 0),
  innerHeight: window.innerHeight,
}))()`

/** Resolve once the DOM has not changed for `quietMs` (at most `capMs`): pages that write their text by script. */
export function domQuietScript(quietMs: number, capMs: number): string {
  return `new Promise((resolve) => {
  let timer;
  const done = () => { observer.disconnect(); clearTimeout(cap); clearTimeout(timer); resolve(true); };
  const observer = new MutationObserver(() => { clearTimeout(timer); timer = setTimeout(done, ${quietMs}); });
  observer.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  timer = setTimeout(done, ${quietMs});
  const cap = setTimeout(done, ${capMs});
})`
}

/** The options of the `<select>` marked with `index`, or null when that element is gone or not a select. */
export function selectOptionsScript(index: number): string {
  return `(() => {
  const el = document.querySelector('[${INDEX_ATTRIBUTE}="${index}"]');
  if (!el) return null;
  if (el.tagName.toLowerCase() !== 'select') return { tag: el.tagName.toLowerCase(), options: [] };
  return { tag: 'select', options: Array.from(el.options).map((o) => ({ index: o.index, text: o.text, value: o.value })) };
})()`
}

/** Choose the option whose text is `option` in the `<select>` marked `index`, firing input and change as a user would. */
export function selectOptionScript(index: number, option: string): string {
  return `(() => {
  const el = document.querySelector('[${INDEX_ATTRIBUTE}="${index}"]');
  if (!el) return { ok: false, reason: 'gone' };
  if (el.tagName.toLowerCase() !== 'select') return { ok: false, reason: 'not-select', tag: el.tagName.toLowerCase() };
  const wanted = ${JSON.stringify(option)};
  const options = Array.from(el.options);
  const match = options.find((o) => o.text === wanted) || options.find((o) => o.text.trim() === wanted.trim());
  if (!match) return { ok: false, reason: 'no-option', available: options.map((o) => o.text) };
  el.value = match.value;
  match.selected = true;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  el.dispatchEvent(new Event('change', { bubbles: true }));
  return { ok: true, value: match.value, index: match.index };
})()`
}

/** Whether the element at a point is a link, area or form that names another window (`target=_blank`). */
export function opensNewWindowScript(x: number, y: number): string {
  return `(() => {
  const holder = document.elementFromPoint(${Number(x)}, ${Number(y)})?.closest('a[target], area[target], form[target]')
  const target = (holder?.getAttribute('target') ?? '').toLowerCase()
  return target !== '' && !['_self', '_parent', '_top'].includes(target)
})()`
}
