// A co-edited design's shared run (docs/protocol.md, "Co-editing: the shared run"). A run
// this tab starts while it may edit is shared with the room; the room's run (server
// message `run`) is the one everyone's player watches, steered through the room by those
// who may (`control`), and what each did (`run_action`) goes to the timeline with a name.
// Emits on the bus:
//   coedit:run {run_id, by, control}        the room's run, on joining and whenever it changes
//   coedit:run-action {run_id, by, kind, action, at_s, ...}   someone steered it
// Listens for coedit:rejoin-run: watch the room's run again (a lecture's Follow).

export class CoeditRun {
  constructor({ bus, coedit, player }) {
    Object.assign(this, { bus, coedit, player });
    this.shared = null; // the room's last `run` message
    coedit.hooks.push((msg) => this.receive(msg));
    bus.on("coedit:rejoin-run", () => { if (this.shared) this.player.attach(this.shared.run_id); });
    bus.on("run:ended", ({ run }) => { if (run?.id === this.shared?.run_id) this.shared = null; }); // over
    bus.on("run:snapshot", ({ run, started }) => {
      if (started && run.owner && run.token && !run.replay && coedit.mayEdit) {
        coedit.send({ type: "run", run_id: run.id, token: run.token });
      }
    });
  }

  send(msg) {
    if (this.coedit.ws?.readyState !== WebSocket.OPEN) return false;
    this.coedit.send(msg);
    return true;
  }

  receive(msg) {
    if (msg.type === "run") {
      this.shared = msg;
      this.player.steerThrough({ runId: msg.run_id, control: msg.control, send: (m) => this.send(m) });
      this.player.attach(msg.run_id);
      this.bus.emit("coedit:run", msg);
      return true;
    }
    if (msg.type === "run_action") {
      // the run's time as this tab knows it (frames lag the server a little): not before
      // anything already logged, so the timeline keeps the order things were done in
      const run = this.player.run?.id === msg.run_id ? this.player.run : null;
      const at_s = run ? Math.max(run.t, run.status?.t ?? 0, run.commands.at(-1)?.at_s ?? 0) : 0;
      this.bus.emit("coedit:run-action", { ...msg, at_s });
      return true;
    }
    if (msg.type === "error" && msg.ref?.startsWith("run")) {
      this.bus.emit("server:error", { msg });
      return true;
    }
    return false;
  }
}
