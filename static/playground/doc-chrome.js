// The design's chrome around the canvas: its name in the top bar and the tab's title, the
// empty-canvas hint, the undo and redo buttons with what they would undo, and why an edit
// was refused (a run plays, or the design is read-only).

import { $ } from "./dom.js";

export class DocChrome {
  constructor({ bus, store, designs, inspector, toaster }) {
    this.store = store;
    this.docName = $("#doc-name");
    this.emptyHint = $("#empty-hint");
    this.docName.addEventListener("click", () => {
      store.clearSelection();
      requestAnimationFrame(() => inspector.scenarioPanel.fields.get("name")?.input.focus());
    });
    const undoBtn = $("#undo"), redoBtn = $("#redo");
    undoBtn.addEventListener("click", () => store.undo());
    redoBtn.addEventListener("click", () => store.redo());
    bus.on("history:changed", ({ canUndo, canRedo, undoLabel, redoLabel }) => {
      undoBtn.disabled = !canUndo;
      redoBtn.disabled = !canRedo;
      undoBtn.title = canUndo ? `Undo: ${undoLabel} (Ctrl+Z)` : "Nothing to undo";
      redoBtn.title = canRedo ? `Redo: ${redoLabel} (Ctrl+Shift+Z)` : "Nothing to redo";
    });
    bus.on("edit:refused", ({ undo, redo }) => {
      if (store.readOnly) return designs.readOnlyNotice();
      toaster.show({ title: undo || redo ? "Stop the run to undo that" : "Stop the run to change the topology",
                     tone: "warn", key: "locked",
                     message: "The simulation is running this design. Parameters still change live in the inspector." });
    });
  }

  render() {
    const { doc } = this.store;
    this.docName.textContent = doc.name || "Untitled design";
    document.title = `${doc.name || "Untitled design"} · System Design Playground`;
    this.emptyHint.hidden = doc.components.length > 0;
  }
}
