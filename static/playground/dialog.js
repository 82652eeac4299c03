// One modal dialog shape for the share, library, version, conflict and confirm dialogs: a
// native <dialog> (focus trap, Escape, inert page for free) with a title, a close button,
// a body and an optional row of buttons. Text goes in as text (dom.js).

import { h } from "./dom.js";
import { icon } from "./icons.js";

export class Dialog {
  constructor({ title, testid, wide = false, iconName = "" }) {
    this.titleEl = h("h2", { class: "dialog-title" }, iconName ? icon(iconName, { size: 18 }) : null,
                     h("span", { text: title }));
    const close = h("button", { type: "button", class: "icon-button", "aria-label": "Close" },
                    icon("close", { size: 16 }));
    this.body = h("div", { class: "dialog-body" });
    this.foot = h("footer", { class: "dialog-foot", hidden: true });
    this.el = h("dialog", { class: `dialog${wide ? " dialog-wide" : ""}`, "data-testid": testid },
      h("header", { class: "dialog-head" }, this.titleEl, close), this.body, this.foot);
    close.addEventListener("click", () => this.close());
    this.el.addEventListener("click", (e) => { if (e.target === this.el) this.close(); });
    this.el.addEventListener("close", () => this.onClose?.());
    document.body.append(this.el);
  }

  get isOpen() {
    return this.el.open;
  }

  setTitle(text) {
    this.titleEl.lastChild.textContent = text;
  }

  /** Buttons in the footer: [{label, run, primary, danger, testid}]; run may return a promise. */
  setButtons(buttons) {
    this.foot.hidden = !buttons.length;
    this.foot.replaceChildren(...buttons.map((b) => {
      const el = h("button", { type: "button", text: b.label, "data-testid": b.testid,
                               class: `button${b.primary ? " button-primary" : ""}${b.danger ? " button-danger" : ""}` });
      el.addEventListener("click", () => b.run());
      return el;
    }));
  }

  open() {
    if (!this.el.open) this.el.showModal();
  }

  close() {
    if (this.el.open) this.el.close();
  }

  remove() {
    this.close();
    this.el.remove();
  }
}

/** Ask a question with a few answers; resolves to the chosen answer's value (null: closed). */
export function ask({ title, message, answers, testid = "ask-dialog" }) {
  return new Promise((resolve) => {
    const d = new Dialog({ title, testid });
    let chosen = null;
    d.body.append(...[message].flat().map((t) => h("p", { class: "dialog-text", text: t })));
    d.setButtons(answers.map((a) => ({ ...a, run: () => { chosen = a.value; d.close(); } })));
    d.onClose = () => {
      d.el.remove();
      resolve(chosen);
    };
    d.open();
    d.foot.querySelector(".button-primary")?.focus();
  });
}
