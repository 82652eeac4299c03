// Toasts (short messages, errors stay until closed) and the one persistent notice for
// a lost connection.

import { h, clear } from "./dom.js";
import { icon } from "./icons.js";

const LIFETIME = { info: 4500, success: 3500, warn: 8000, error: 0 };

export class Toaster {
  constructor(root) {
    this.root = root;
    this.byKey = new Map();
  }

  /**
   * Show a toast. {title, message, items: [string], tone: info|success|warn|error,
   * key (replaces an earlier toast with the same key), action: {label, run}}
   */
  show({ title, message = "", items = [], tone = "info", key = "", action = null, timeout }) {
    if (key && this.byKey.has(key)) this.byKey.get(key).remove();
    const list = items.length
      ? h("ul", { class: "toast-items" }, items.slice(0, 12).map((t) => h("li", { text: t })),
          items.length > 12 ? h("li", { class: "muted", text: `and ${items.length - 12} more` }) : null)
      : null;
    const close = h("button", { class: "icon-button toast-close", type: "button",
                                "aria-label": "Dismiss" }, icon("close", { size: 14 }));
    const toneIcon = { error: "alert", warn: "alert", success: "check", info: "help" }[tone];
    const el = h("div", { class: `toast toast-${tone}`, role: tone === "error" ? "alert" : "status",
                          "data-testid": "toast", "data-tone": tone },
      h("span", { class: "toast-icon" }, icon(toneIcon, { size: 16 })),
      h("div", { class: "toast-body" },
        h("strong", { class: "toast-title", text: title }),
        message ? h("p", { class: "toast-message", text: message }) : null,
        list,
        action ? h("button", { class: "button button-small toast-action", type: "button",
                               text: action.label,
                               onclick: () => { action.run(); remove(); } }) : null),
      close);
    const remove = () => {
      el.classList.add("toast-leaving");
      setTimeout(() => el.remove(), 160);
      if (key && this.byKey.get(key) === el) this.byKey.delete(key);
    };
    close.addEventListener("click", remove);
    this.root.append(el);
    while (this.root.children.length > 5) this.root.firstElementChild.remove();
    if (key) this.byKey.set(key, el);
    const life = timeout ?? LIFETIME[tone];
    if (life) setTimeout(remove, life);
    return { remove, el };
  }

  dismiss(key) {
    this.byKey.get(key)?.remove();
    this.byKey.delete(key);
  }

  clearAll() {
    clear(this.root);
    this.byKey.clear();
  }
}
