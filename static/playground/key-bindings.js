// What each shortcut of keyboard.js does in the editor, and the canvas's keyboard focus:
// the note a screen reader hears about the focused component, the first component focused
// on a keyboard (Tab) focus of the canvas.

import { $ } from "./dom.js";
import { Keyboard } from "./keyboard.js";
import { GRID } from "./topology.js";
import { plural } from "./format.js";

const NUDGES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

export function bindKeys({ bus, store, registry, canvas, connector, actions, runbar, help, contextMenu,
                           toolbar, designs, toaster, announce }) {
  const canvasEl = canvas.container;
  const focusNote = $("#canvas-focus-note");
  bus.on("canvas:focus", (id) => {
    if (!id) {
      focusNote.textContent = "No component focused.";
      return;
    }
    const c = store.component(id);
    if (!c) return;
    const ins = store.doc.links.filter((l) => l.to === id).length;
    const outs = store.doc.links.filter((l) => l.from === id).length;
    const text = `${c.label || c.id}, ${registry.kind(c.kind).title}. ${plural(ins, "link")} in, ${outs} out. ${registry.summary(c)}.`;
    focusNote.textContent = text;
    announce(text);
  });
  const inCanvasOrBody = () => [canvasEl, document.body, null].includes(document.activeElement);
  new Keyboard({
    canvasEl,
    isConnecting: () => connector.active && connector.mode.via !== "drag",
    isBlocked: () => help.isOpen || contextMenu.isOpen || !$("#file-menu").hidden
      || !!document.querySelector("dialog[open]"),
    handlers: {
      toggle: () => runbar.toggle(),
      step: () => runbar.step(),
      faster: () => runbar.speedStep(1),
      slower: () => runbar.speedStep(-1),
      undo: () => store.undo(),
      redo: () => store.redo(),
      copy: () => (inCanvasOrBody() && actions.copy() ? undefined : false),
      paste: () => (inCanvasOrBody() && actions.clipboard ? actions.paste() : false),
      duplicate: () => actions.duplicate(),
      selectAll: () => (inCanvasOrBody() ? actions.selectAll() : false),
      delete: () => {
        if (!store.selection.components.size && !store.selection.links.size && canvas.focusId
            && document.activeElement === canvasEl) {
          store.select({ components: [canvas.focusId] });
        }
        actions.deleteSelection();
      },
      connect: () => toolbar.connectFromSelection(document.activeElement === canvasEl ? "keys" : "click"),
      palette: () => $(".palette-item")?.focus(),
      inspect: () => {
        const first = $("#details:not([hidden]) button, #inspector input:not([disabled]), #inspector select:not([disabled]), #inspector textarea");
        first?.focus();
      },
      save: () => { designs.save(); },
      tab: (e) => {
        const comps = store.doc.components;
        if (!comps.length) return false;
        const i = comps.findIndex((c) => c.id === canvas.focusId);
        if (!e.shiftKey && i === comps.length - 1) return false;
        if (e.shiftKey && i === 0) return false;
        if (e.shiftKey && i < 0) return false;
        canvas.moveFocus(e.shiftKey ? "prev" : "next");
        return undefined;
      },
      arrow: (e) => { canvas.moveFocus(e.key); },
      nudge: (e) => {
        if (!store.selection.components.size && canvas.focusId) store.select({ components: [canvas.focusId] });
        const d = NUDGES[e.key];
        actions.nudge(d[0] * GRID, d[1] * GRID);
      },
      select: (e) => {
        if (!canvas.focusId) {
          canvas.moveFocus("next");
          return;
        }
        if (e.shiftKey && store.selection.components.has(canvas.focusId)) {
          const comps = [...store.selection.components].filter((x) => x !== canvas.focusId);
          store.select({ components: comps, links: [...store.selection.links] });
        } else {
          store.select({ components: [canvas.focusId] }, { additive: e.shiftKey });
        }
      },
      menu: () => {
        const id = canvas.focusId || store.single()?.id;
        if (!id) return;
        const n = canvas.cy.getElementById(id);
        const rect = canvasEl.getBoundingClientRect();
        const p = n.renderedPosition();
        if (!store.selection.components.has(id)) store.select({ components: [id] });
        bus.emit("context:open", { kind: "component", id, clientX: rect.left + p.x, clientY: rect.top + p.y + 20, position: n.position() });
      },
      escape: () => {
        if (connector.active) connector.cancel();
        else if (store.selection.components.size || store.selection.links.size) store.clearSelection();
        else return false;
        return undefined;
      },
      fit: () => canvas.fit(),
      zoom: (e) => canvas.zoomBy(e.key === "+" || e.key === "=" ? 1.2 : 1 / 1.2),
      zoomReset: () => canvas.zoomReset(),
      grid: () => {
        toolbar.setSnap(!canvas.snapToGrid);
        toaster.show({ title: `Snap to grid ${canvas.snapToGrid ? "on" : "off"}`, tone: "info", key: "grid", timeout: 1500 });
      },
      help: () => help.toggle(),
      connectKey: (e) => {
        if (e.key === "Enter") connector.confirm();
        else if (e.key === "Escape") connector.cancel();
        else connector.moveTarget(e.key);
      },
    },
  });
  canvasEl.addEventListener("focus", () => {
    // only a keyboard focus (Tab) shows a focus ring on a component; a click focuses quietly
    if (!canvas.focusId && store.doc.components.length && canvasEl.matches(":focus-visible")) {
      const sel = store.single();
      canvas.setFocus(sel?.type === "component" ? sel.id : store.doc.components[0].id);
    }
  });
}
