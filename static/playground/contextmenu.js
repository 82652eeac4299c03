// The right-click menu (also Shift+F10 / the Menu key on a focused component): edit
// actions, and while a run plays, fail/recover/slow a component or cut/heal a link at the
// current simulated time. Keyboard: arrows, Enter, Escape.

import { h } from "./dom.js";
import { icon, kindTile } from "./icons.js";

export class ContextMenu {
  constructor({ bus, store, registry, player, actions, connector, canvas }) {
    Object.assign(this, { bus, store, registry, player, actions, connector, canvas });
    this.el = h("div", { class: "context-menu", role: "menu", hidden: true, tabindex: "-1",
                         "data-testid": "context-menu" });
    document.body.append(this.el);
    this.el.addEventListener("keydown", (e) => this.key(e));
    document.addEventListener("pointerdown", (e) => { if (!this.el.contains(e.target)) this.close(); }, true);
    window.addEventListener("blur", () => this.close());
    window.addEventListener("resize", () => this.close());
    bus.on("viewport:changed", () => this.close());
    bus.on("context:open", (req) => this.open(req));
  }

  itemsFor(req) {
    const { store, player, actions, connector, registry, canvas } = this;
    const locked = store.locked;
    const control = player.canCommand;
    const items = [];
    if (req.kind === "component") {
      const id = req.id;
      const s = player.run?.components?.[id];
      items.push({ header: id });
      items.push({ label: "Inspect", icon: "sliders", run: () => this.bus.emit("inspector:focus", { id, field: "label" }) });
      if (control) {
        items.push({ separator: true }, { header: "Live" });
        if (s?.up === false) items.push({ label: "Recover", icon: "power", testid: "menu-recover", run: () => player.command({ action: "recover", target: id }) });
        else items.push({ label: "Fail", icon: "power", danger: true, testid: "menu-fail", run: () => player.command({ action: "fail", target: id }) });
        const factor = player.slowFactor(id);
        for (const f of [2, 5, 10]) {
          items.push({ label: `Slow down ×${f}`, icon: "slow", checked: factor === f, testid: `menu-slow-${f}`,
                       run: () => player.command({ action: "slow", target: id, params: { factor: f } }) });
        }
        if (factor !== 1) items.push({ label: "Normal speed", icon: "slow", run: () => player.command({ action: "slow", target: id, params: { factor: 1 } }) });
      }
      items.push({ separator: true });
      items.push({ label: "Connect from here…", icon: "link", shortcut: "L", disabled: locked, run: () => connector.start(id, "click") });
      items.push({ label: "Duplicate", icon: "copy", shortcut: "Ctrl+D", disabled: locked, run: () => actions.duplicate() });
      items.push({ label: "Copy", icon: "copy", shortcut: "Ctrl+C", run: () => actions.copy() });
      items.push({ label: "Delete", icon: "trash", shortcut: "Del", danger: true, disabled: locked, run: () => actions.deleteSelection() });
    } else if (req.kind === "link") {
      const l = store.link(req.key);
      if (!l) return [];
      items.push({ header: `${l.from} → ${l.to}` });
      if (control) {
        const cut = player.cutLinks().has(req.key);
        items.push(cut
          ? { label: "Heal link", icon: "heal", testid: "menu-heal", run: () => player.command({ action: "heal", target: [l.from, l.to] }) }
          : { label: "Cut link (partition)", icon: "scissors", danger: true, testid: "menu-cut", run: () => player.command({ action: "partition", target: [l.from, l.to] }) });
        items.push({ separator: true });
      }
      items.push({ label: "Inspect", icon: "sliders", run: () => store.select({ links: [req.key] }) });
      items.push({ label: "Delete link", icon: "trash", shortcut: "Del", danger: true, disabled: locked, run: () => actions.deleteSelection() });
    } else {
      items.push({ header: "Add here" });
      for (const { kinds } of registry.groups()) {
        for (const kind of kinds) {
          items.push({ label: registry.kind(kind).title, tile: kind, disabled: locked,
                       run: () => actions.addComponent(kind, req.position) });
        }
      }
      items.push({ separator: true });
      items.push({ label: "Paste here", icon: "copy", shortcut: "Ctrl+V", disabled: locked || !actions.clipboard, run: () => actions.paste(req.position) });
      items.push({ label: "Select all", shortcut: "Ctrl+A", run: () => actions.selectAll() });
      items.push({ label: "Fit to view", icon: "fit", shortcut: "F", run: () => canvas.fit() });
    }
    return items;
  }

  open(req) {
    const items = this.itemsFor(req);
    if (!items.length) return;
    this.returnFocus = document.activeElement;
    this.el.replaceChildren(...items.map((it) => {
      if (it.separator) return h("div", { class: "menu-separator", role: "separator" });
      if (it.header) return h("div", { class: "menu-header", text: it.header });
      const b = h("button", { type: "button", role: it.checked !== undefined ? "menuitemradio" : "menuitem",
                              class: `menu-item${it.danger ? " danger" : ""}`, disabled: it.disabled,
                              "aria-checked": it.checked !== undefined ? String(!!it.checked) : undefined,
                              "data-testid": it.testid },
        it.tile ? kindTile(it.tile, 18) : h("span", { class: "menu-icon" }, it.icon ? icon(it.icon, { size: 15 }) : null),
        h("span", { class: "menu-label", text: it.label }),
        it.checked ? icon("check", { size: 14 }) : null,
        it.shortcut ? h("kbd", { class: "menu-shortcut", text: it.shortcut }) : null);
      b.addEventListener("click", () => {
        this.close();
        it.run();
      });
      return b;
    }));
    this.el.hidden = false;
    const { innerWidth: W, innerHeight: H } = window;
    const r = this.el.getBoundingClientRect();
    this.el.style.left = `${Math.min(req.clientX, W - r.width - 8)}px`;
    this.el.style.top = `${Math.max(8, Math.min(req.clientY, H - r.height - 8))}px`;
    this.buttons()[0]?.focus();
  }

  buttons() {
    return [...this.el.querySelectorAll(".menu-item:not([disabled])")];
  }

  key(e) {
    const list = this.buttons();
    const i = list.indexOf(document.activeElement);
    if (e.key === "ArrowDown") list[(i + 1) % list.length]?.focus();
    else if (e.key === "ArrowUp") list[(i - 1 + list.length) % list.length]?.focus();
    else if (e.key === "Home") list[0]?.focus();
    else if (e.key === "End") list[list.length - 1]?.focus();
    else if (e.key === "Escape" || e.key === "Tab") this.close(true);
    else return;
    e.preventDefault();
    e.stopPropagation();
  }

  close(restore = false) {
    if (this.el.hidden) return;
    this.el.hidden = true;
    if (restore) this.returnFocus?.focus?.();
  }

  get isOpen() {
    return !this.el.hidden;
  }
}
