// The canvas's toolbar: zoom, fit, snap to grid (kept as a preference), Connect (a link from
// the selected or focused component) and the help button. Keys reach the same actions.

import { $ } from "./dom.js";
import { prefs } from "./persistence.js";

export class ViewToolbar {
  constructor({ bus, store, canvas, connector, help, toaster }) {
    Object.assign(this, { store, canvas, connector, toaster });
    this.snapBtn = $("#snap");
    this.setSnap(canvas.snapToGrid);
    $("#zoom-in").addEventListener("click", () => canvas.zoomBy(1.2));
    $("#zoom-out").addEventListener("click", () => canvas.zoomBy(1 / 1.2));
    $("#fit").addEventListener("click", () => canvas.fit());
    this.snapBtn.addEventListener("click", () => this.setSnap(!canvas.snapToGrid));
    $("#connect").addEventListener("click", () => this.connectFromSelection("click"));
    const connectHint = $("#connect-hint");
    bus.on("connect:changed", (mode) => {
      connectHint.hidden = !mode || mode.via === "drag";
      $("#connect").setAttribute("aria-pressed", String(!!mode));
    });
    $("#help-button").addEventListener("click", () => help.toggle());
  }

  setSnap(on) {
    this.canvas.snapToGrid = on;
    prefs.set("snap", on);
    this.snapBtn.setAttribute("aria-pressed", String(on));
    $("#stage-canvas").classList.toggle("no-grid", !on);
  }

  /** Start a link from the selected component (or the focused one); `via`: "click" or "keys". */
  connectFromSelection(via) {
    const single = this.store.single();
    const id = single?.type === "component" ? single.id : this.canvas.focusId;
    if (!id) {
      this.toaster.show({ title: "Select a component first", message: "Then press L (or Connect) and pick the component to link to.", tone: "info", key: "connect" });
      return;
    }
    this.connector.start(id, via);
  }
}
