// Every keyboard shortcut, declared once: the key handler below and the help overlay (?)
// both read SHORTCUTS. Scopes: "global" (anywhere but a text field), "canvas" (the design
// canvas has focus), "connect" (drawing a link with the keyboard). `inFields`: also while
// typing in a field, which is first committed (blurred) so the action sees its value.

import { typingTarget } from "./dom.js";

const mod = (e) => e.ctrlKey || e.metaKey;
const plain = (e) => !e.ctrlKey && !e.metaKey && !e.altKey;

export const SHORTCUTS = [
  { group: "Run", keys: ["Space"], desc: "Play / pause", id: "toggle",
    match: (e) => e.key === " " && plain(e) && !e.shiftKey },
  { group: "Run", keys: ["."], desc: "Single step (when paused)", id: "step", match: (e) => e.key === "." && plain(e) },
  { group: "Run", keys: ["]"], desc: "Faster", id: "faster", match: (e) => e.key === "]" && plain(e) },
  { group: "Run", keys: ["["], desc: "Slower", id: "slower", match: (e) => e.key === "[" && plain(e) },
  { group: "Edit", keys: ["Ctrl+Z"], desc: "Undo", id: "undo", match: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === "z" },
  { group: "Edit", keys: ["Ctrl+Shift+Z", "Ctrl+Y"], desc: "Redo", id: "redo",
    match: (e) => mod(e) && ((e.shiftKey && e.key.toLowerCase() === "z") || e.key.toLowerCase() === "y") },
  { group: "Edit", keys: ["Ctrl+C"], desc: "Copy selected components", id: "copy", match: (e) => mod(e) && e.key.toLowerCase() === "c" },
  { group: "Edit", keys: ["Ctrl+V"], desc: "Paste (new ids, offset)", id: "paste", match: (e) => mod(e) && e.key.toLowerCase() === "v" },
  { group: "Edit", keys: ["Ctrl+D"], desc: "Duplicate selection", id: "duplicate", match: (e) => mod(e) && e.key.toLowerCase() === "d" },
  { group: "Edit", keys: ["Ctrl+A"], desc: "Select everything", id: "selectAll", match: (e) => mod(e) && e.key.toLowerCase() === "a" },
  { group: "Edit", keys: ["Delete", "Backspace"], desc: "Delete selection", id: "delete",
    match: (e) => (e.key === "Delete" || e.key === "Backspace") && plain(e) },
  { group: "Edit", keys: ["L"], desc: "Link the selected component to another (click it, or arrows + Enter)", id: "connect",
    match: (e) => e.key.toLowerCase() === "l" && plain(e) },
  { group: "Edit", keys: ["A"], desc: "Go to the palette to add a component (Enter adds it)", id: "palette",
    match: (e) => e.key.toLowerCase() === "a" && plain(e) },
  { group: "Edit", keys: ["E"], desc: "Edit the selection in the inspector", id: "inspect",
    match: (e) => e.key.toLowerCase() === "e" && plain(e) },
  { group: "Edit", keys: ["Ctrl+S"], desc: "Save the design (the first save gives it a link)", id: "save",
    inFields: true, match: (e) => mod(e) && e.key.toLowerCase() === "s" },
  { group: "Canvas", keys: ["Tab", "Shift+Tab"], desc: "Focus the next / previous component", id: "tab",
    scope: "canvas", match: (e) => e.key === "Tab" && !mod(e) },
  { group: "Canvas", keys: ["← ↑ → ↓"], desc: "Focus the nearest component in that direction", id: "arrow",
    scope: "canvas", match: (e) => e.key.startsWith("Arrow") && plain(e) && !e.shiftKey },
  { group: "Canvas", keys: ["Shift+← ↑ → ↓"], desc: "Move the selected components by one grid step", id: "nudge",
    scope: "canvas", match: (e) => e.key.startsWith("Arrow") && e.shiftKey && !mod(e) },
  { group: "Canvas", keys: ["Enter"], desc: "Select the focused component (Shift+Enter adds it)", id: "select",
    scope: "canvas", match: (e) => e.key === "Enter" && !mod(e) },
  { group: "Canvas", keys: ["Shift+F10", "Menu"], desc: "Open the menu of the focused component", id: "menu",
    scope: "canvas", match: (e) => (e.key === "F10" && e.shiftKey) || e.key === "ContextMenu" },
  { group: "Canvas", keys: ["Esc"], desc: "Cancel linking / clear the selection", id: "escape", match: (e) => e.key === "Escape" },
  { group: "View", keys: ["F"], desc: "Fit the design to the view", id: "fit", match: (e) => e.key.toLowerCase() === "f" && plain(e) },
  { group: "View", keys: ["+", "−"], desc: "Zoom in / out", id: "zoom", match: (e) => ["+", "=", "-", "_"].includes(e.key) && plain(e) },
  { group: "View", keys: ["0"], desc: "Zoom to 100%", id: "zoomReset", match: (e) => e.key === "0" && plain(e) },
  { group: "View", keys: ["G"], desc: "Snap to grid on / off", id: "grid", match: (e) => e.key.toLowerCase() === "g" && plain(e) },
  { group: "View", keys: ["?"], desc: "Show this help", id: "help", match: (e) => e.key === "?" },
];

export class Keyboard {
  /** handlers: {id: (event, shortcut) => boolean|void}; return false to let the key through. */
  constructor({ canvasEl, handlers, isConnecting, isBlocked }) {
    this.canvasEl = canvasEl;
    this.handlers = handlers;
    this.isConnecting = isConnecting;
    this.isBlocked = isBlocked;
    window.addEventListener("keydown", (e) => this.down(e));
  }

  down(e) {
    if (e.defaultPrevented || e.isComposing) return;
    if (this.isBlocked()) return;
    const target = e.target;
    const inCanvas = target === this.canvasEl;
    const fieldKey = typingTarget(target) && SHORTCUTS.find((sc) => sc.inFields && sc.match(e));
    if (fieldKey) {
      e.preventDefault();
      target.blur();
      this.handlers[fieldKey.id]?.(e, fieldKey);
      return;
    }
    if (typingTarget(target) && e.key !== "Escape") return;
    if (typingTarget(target) && e.key === "Escape") return; // fields handle their own Escape
    const onControl = target instanceof HTMLElement && target.closest("button, a, [role=menu], dialog, summary, select");
    for (const sc of SHORTCUTS) {
      if (!sc.match(e)) continue;
      if (sc.scope === "canvas" && !inCanvas) continue;
      if (sc.id === "toggle" && onControl && !inCanvas) return; // Space presses the focused button
      if (sc.id === "select" && !inCanvas) continue;
      if (this.isConnecting() && inCanvas && (e.key.startsWith("Arrow") || e.key === "Enter" || e.key === "Escape")) {
        const handled = this.handlers.connectKey?.(e);
        if (handled !== false) e.preventDefault();
        return;
      }
      const fn = this.handlers[sc.id];
      if (!fn) return;
      const result = fn(e, sc);
      if (result !== false) e.preventDefault();
      return;
    }
  }
}
