// Co-editing a saved design (page.coedit: its edit link, or its owner's or a viewer's page
// of a design that has one). The store stays the editor's one model: this tab's edits go
// from the store into a shared Y document (coedit-map.js) and out over the co-editing
// websocket; others' come in, merge (Yjs) and replace the store's document. Presence: who
// is here (names, colours, watching or editing) and what they selected, drawn around those
// components on the canvas. The server saves the design (docs/protocol.md, "Co-editing").
// Undo and redo take back this person's own edits only (coedit-undo.js); the others'
// pointers (coedit-pointers.js) and the fields they edit (coedit-fields.js) show too.
// Names: an account's or a classroom seat's; a person who is neither goes by the guest's
// name the server gave them ("Guest calm otter") until they type their own in the field
// where their name shows, kept in this browser.

import { Y, applyDocument, canonical, toDocument } from "./coedit-map.js";
import { FieldPresence } from "./coedit-fields.js";
import { Pointers } from "./coedit-pointers.js";
import { LOCAL, SharedHistory } from "./coedit-undo.js";
import { $, h } from "./dom.js";
import { normalize } from "./topology.js";

const FLUSH_MS = 100; // this tab's edits go out merged, at most 10 a second (the server takes 20)
const PRESENCE_MS = 200;
const RESYNC_MS = 1000; // after a refused update, ask the server what it has
const RETRY_MS = [500, 1000, 2000, 5000, 10000];
const NOT_FOUND = 4004;
const NAME_CHARS = 40; // the server's bound (playground/coedit/consumer.py NAME_CHARS)
const NAME_KEY = "playground.coedit.name"; // a guest's own name, in localStorage

/** The name a guest gave in an earlier visit, or null. */
function savedName() {
  try {
    return localStorage.getItem(NAME_KEY)?.trim().slice(0, NAME_CHARS) || null;
  } catch { // storage blocked: the guest's name lasts this page
    return null;
  }
}

function saveName(name) {
  try {
    if (name) localStorage.setItem(NAME_KEY, name);
    else localStorage.removeItem(NAME_KEY);
  } catch { /* kept for this page only */ }
}

const toB64 = (bytes) => {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};
const fromB64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** One person's entry in "who is here": their colour's dot, then their name. */
const newEntry = () => h("span", { class: "coedit-peer", "data-testid": "coedit-peer" },
                         h("span", { class: "coedit-dot", "aria-hidden": "true" }));

function describe(entry, peer, who) {
  Object.assign(entry.dataset, { peer: peer.id, role: peer.role });
  entry.firstChild.style.backgroundColor = peer.colour;
  entry.title = `${who}: ${peer.role === "viewer" ? "watching" : "editing"}`;
}

export class CoEdit {
  constructor({ bus, store, canvas, toaster, designs, page }) {
    Object.assign(this, { bus, store, canvas, toaster, designs });
    this.url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${page.coedit.socket}`;
    this.ydoc = new Y.Doc();
    this.pending = [];
    this.peers = new Map(); // id -> {id, name, colour, role, selection}
    this.you = null;
    this.role = null;
    this.synced = false;
    this.followed = false; // this tab's selection is one a lecture gave it (lecture.js)
    this.attempt = 0;
    this.named = page.coedit.name || page.user?.name || null; // a seat's or an account's
    this.name = this.named || savedName() || "Guest"; // a guest: the server's name, at welcome
    this.gone = page.coedit.gone || "This edit link does not work"; // the toast when refused
    this.timers = {};
    this.history = new SharedHistory(this.ydoc, () => this.pull());
    store.useHistory(this.history);
    this.hooks = []; // (msg) => true if it handled the room's message (coedit-run.js)
    this.ydoc.on("update", (update, origin) => {
      if (!this.history.mine(origin)) return; // an edit or an undo of this tab's
      this.pending.push(update);
      this.status("unsaved");
      this.later("flush", FLUSH_MS, () => this.flush());
    });
    bus.on("doc:changed", ({ how }) => {
      // offline too: kept in the Y document, sent when the room has this tab again
      if (how !== "remote" && this.mayEdit) applyDocument(this.ydoc, this.store.doc, LOCAL);
    });
    bus.on("selection:changed", ({ origin }) => {
      // a lecture's follower is given the presenter's selection (lecture.js): it is the
      // presenter's, not one to show the room as the follower's own (pruning keeps whose)
      if (origin !== "store") this.followed = origin === "lecture";
      this.later("presence", PRESENCE_MS, () => this.sendPresence());
    });
    bus.on("canvas:rendered", () => this.paintSelections());
    this.pointers = new Pointers({ canvas, peers: this.peers, send: (m) => this.send(m) });
    this.fields = new FieldPresence({ root: $("#inspector"), bus, store, canvas, peers: this.peers,
                                      changed: () => this.later("presence", PRESENCE_MS, () => this.sendPresence()) });
    this.panel = h("div", { class: "coedit-presence", "data-testid": "coedit-presence", role: "status",
                            "aria-label": "Who is here" });
    if (!this.named) this.nameField = this.makeNameField();
    $(".topbar-end").prepend(this.panel);
  }

  get mayEdit() {
    return this.role === "owner" || this.role === "editor";
  }

  later(name, ms, run) {
    if (this.timers[name]) return;
    this.timers[name] = setTimeout(() => { this.timers[name] = null; run(); }, ms);
  }

  connect() {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onmessage = (e) => this.receive(JSON.parse(e.data));
    ws.onclose = (e) => {
      this.ws = null;
      this.synced = false;
      this.peers.clear();
      this.pointers.clear();
      this.render();
      if (e.code === NOT_FOUND) return;
      this.status("offline");
      setTimeout(() => this.connect(), RETRY_MS[Math.min(this.attempt++, RETRY_MS.length - 1)]);
    };
  }

  send(message) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  flush() {
    if (!this.pending.length || !this.synced || !this.mayEdit) return;
    const update = Y.mergeUpdates(this.pending);
    this.pending = [];
    this.send({ type: "update", update: toB64(update) });
  }

  /** Send what this tab has that the server's state vector lacks (edits made offline). */
  sendMissing(vector) {
    if (!this.mayEdit) return;
    const mine = Y.encodeStateAsUpdate(this.ydoc, vector);
    const empty = Y.encodeStateAsUpdate(new Y.Doc());
    if (mine.length > empty.length) this.send({ type: "update", update: toB64(mine) });
  }

  receive(msg) {
    this.bus.emit("coedit:message", msg); // what a lecture (lecture.js) adds to the room
    if (this.hooks.some((hook) => hook(msg))) return;
    switch (msg.type) {
      case "welcome":
        this.attempt = 0;
        this.role = msg.role;
        this.you = msg.you;
        if (!this.named) this.name = savedName() || msg.you.name;
        Y.applyUpdate(this.ydoc, fromB64(msg.state), "server");
        this.pending = []; // the welcome's vector says what of them the server still lacks
        this.synced = true;
        this.sendMissing(fromB64(msg.vector));
        this.pull();
        if (!this.mayEdit) this.readOnly();
        this.sendPresence();
        this.status("saved");
        break;
      case "update":
        Y.applyUpdate(this.ydoc, fromB64(msg.update), "server");
        // at once, not on a timer: an edit of this tab made before the store had it would
        // write the store's older copy into the shared document, taking it back for everyone
        this.pull();
        break;
      case "sync":
        Y.applyUpdate(this.ydoc, fromB64(msg.update), "server");
        this.sendMissing(fromB64(msg.vector));
        this.pull();
        break;
      case "presence":
        this.peers.set(msg.peer.id, msg.peer);
        this.render();
        break;
      case "pointer":
        this.pointers.show(msg);
        break;
      case "left":
        this.peers.delete(msg.peer);
        this.pointers.forget(msg.peer);
        this.render();
        break;
      case "role":
        this.role = msg.role;
        if (this.mayEdit) this.editable(msg.reason);
        else this.readOnly(msg.reason);
        this.render();
        break;
      case "accepted": // the room has this tab's edits; the server saves them soon
        if (!this.pending.length) this.status("shared");
        break;
      case "saved":
        if (msg.version) this.status("saved");
        else this.status("error", msg.errors?.[0]);
        break;
      case "error":
        if (["read_only"].includes(msg.code)) return;
        if (msg.code === "not_found") {
          this.toaster.show({ title: this.gone, message: msg.message, tone: "error", key: "coedit" });
          return;
        }
        // an update the server did not take: ask what it has, and send the rest again
        if (msg.ref === "update" || msg.code === "rate_limited") {
          this.later("resync", RESYNC_MS, () => this.send({ type: "sync", vector: toB64(Y.encodeStateVector(this.ydoc)) }));
        }
        if (msg.code !== "rate_limited") this.toaster.show({ title: "An edit was refused", message: msg.message, tone: "warn", key: "coedit" });
        break;
      default:
        break;
    }
  }

  /** The shared document into the store (if it differs from what the store holds). */
  pull() {
    let doc;
    try {
      doc = normalize(toDocument(this.ydoc)).doc;
    } catch (err) { // not a design at all (someone else's client wrote nonsense): keep ours
      this.toaster.show({ title: "The shared design could not be read", message: err.message, tone: "error", key: "coedit" });
      return;
    }
    if (canonical(doc) !== canonical(this.store.doc)) this.store.applyRemote(doc);
  }

  readOnly(reason) {
    if (this.store.readOnly) return;
    this.designs.lock();
    if (reason) {
      this.toaster.show({ title: "You can watch, not edit", message: `${reason[0].toUpperCase()}${reason.slice(1)}.`,
                          tone: "warn", key: "coedit-role" });
    }
  }

  /** Edit rights given (a lecture's pen): this tab's edits go to the room again. */
  editable(reason) {
    if (!this.store.readOnly) return;
    this.designs.unlock();
    this.toaster.show({ title: "You can edit", message: `${reason[0].toUpperCase()}${reason.slice(1)}.`,
                        tone: "info", key: "coedit-role" });
  }

  sendPresence() {
    if (!this.synced) return;
    const selection = this.followed ? [] : [...this.store.selection.components];
    this.send({ type: "presence", name: this.name, selection, editing: this.fields.mine });
    this.render();
  }

  status(state, why) {
    this.bus.emit("save:state", { source: "coedit", state, at: state === "saved" ? Date.now() : null, why });
  }

  /** A guest's name, theirs to change: the field keeps its focus while the others come and go. */
  makeNameField() {
    const field = h("input", { class: "input coedit-name-input", "data-testid": "coedit-name", maxlength: NAME_CHARS,
                               autocomplete: "nickname", spellcheck: "false",
                               "aria-label": "Your name, as the others here see it",
                               title: "Your name, as the others here see it: type yours (kept in this browser)" });
    field.addEventListener("change", () => {
      const name = field.value.trim().slice(0, NAME_CHARS);
      saveName(name);
      this.name = name || this.you?.name || "Guest"; // emptied: the guest's name again
      field.value = this.name;
      this.sendPresence();
    });
    field.addEventListener("keydown", (e) => { if (e.key === "Enter") field.blur(); });
    return field;
  }

  render() {
    // this tab's own entry stays in place (a guest may be typing their name in it)
    for (const el of [...this.panel.children]) if (el !== this.mine) el.remove();
    if (this.you && this.synced) this.renderMine();
    else this.mine?.remove();
    for (const peer of this.peers.values()) {
      const entry = newEntry();
      describe(entry, peer, peer.name);
      entry.append(h("span", { class: "coedit-name", text: peer.name }));
      this.panel.append(entry);
    }
    this.paintSelections();
    this.fields.paint();
  }

  renderMine() {
    if (!this.mine) {
      this.mineLabel = h("span", { class: "coedit-name" });
      this.mine = newEntry();
      this.mine.append(...[this.nameField, this.mineLabel].filter(Boolean));
    }
    describe(this.mine, { ...this.you, role: this.role }, `${this.name} (you)`);
    this.mineLabel.textContent = this.nameField ? "(you)" : `${this.name} (you)`;
    if (this.nameField && document.activeElement !== this.nameField) this.nameField.value = this.name;
    if (!this.mine.isConnected) this.panel.prepend(this.mine);
  }

  /** Others' selections: their colour around the components they selected. */
  paintSelections() {
    const { cy } = this.canvas;
    const colours = new Map();
    for (const peer of this.peers.values()) for (const id of peer.selection || []) colours.set(id, peer.colour);
    cy.batch(() => cy.nodes().forEach((n) => {
      const want = colours.get(n.id());
      if (want && n.data("peerColour") !== want) n.data("peerColour", want);
      n.toggleClass("peer-selected", !!want); // (removing the data left the style drawn)
    }));
  }
}
