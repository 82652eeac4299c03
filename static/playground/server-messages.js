// What the server says over the play socket, shown to the person: errors as toasts in words
// (a refused design's problems also go on the canvas), passing notices, and the banner while
// the connection is down, counting down to the next try.

import { $ } from "./dom.js";

const ERROR_TITLES = {
  invalid_scenario: "The design cannot run yet",
  invalid_command: "That change was refused",
  bad_message: "The server did not understand a message",
  unknown_run: "That run is gone",
  forbidden: "Only the person who started this run can change it",
  too_large: "The design is too large to send",
  rate_limited: "Too many changes at once",
  too_many_runs: "Too many runs open",
  too_many_sockets: "Too many connections open",
  server_busy: "The server is busy",
  no_workers: "No simulation worker is running",
  closed_by_server: "The server closed the connection",
  unknown_run_link: "That run link does not exist",
  replay_is_fixed: "A replay cannot be changed",
  not_a_replay: "Only a replay can jump in time",
  read_only: "You are watching this run",
};

export function showServerMessages({ bus, store, player, validator, toaster }) {
  // A short notice from the server (a run moved to another worker, the service is away for
  // a moment): the run goes on, so a passing toast rather than an error.
  bus.on("server:notice", ({ message }) => {
    toaster.show({ title: message, tone: "info", key: "server-notice" });
  });
  bus.on("server:error", ({ msg }) => {
    const title = ERROR_TITLES[msg.code] || "The server reported a problem";
    const lines = msg.errors || [];
    if (msg.code === "invalid_scenario") {
      validator.external(lines, store.doc);
      const located = validator.problems.items.map((p) => (p.where ? `${p.where}: ${p.field ? `${p.field}: ` : ""}${p.message}` : p.message));
      toaster.show({ title, message: "Fix these, then press Play again:", items: located, tone: "error", key: "run-error" });
      const first = validator.problems.items.find((p) => p.kind === "component" && p.id);
      if (first) store.select({ components: [first.id] });
      return;
    }
    toaster.show({ title, message: msg.message || "", items: lines, tone: msg.code === "rate_limited" ? "warn" : "error",
                   key: `server-${msg.code}` });
  });

  const connBanner = $("#conn-banner");
  const connText = connBanner.querySelector(".conn-banner-text");
  let bannerTimer = 0;
  let everOnline = false;
  bus.on("conn:changed", ({ state }) => {
    clearInterval(bannerTimer);
    if (state === "online") {
      if (!connBanner.hidden) toaster.show({ title: "Reconnected", tone: "success", key: "conn" });
      everOnline = true;
      connBanner.hidden = true;
      return;
    }
    if (state === "offline") {
      const text = () => {
        const left = Math.max(0, Math.ceil((player.retryAt - Date.now()) / 1000));
        const lead = everOnline ? "Connection to the simulation server lost." : "Cannot reach the simulation server.";
        connText.textContent = `${lead} ${left ? `Reconnecting in ${left} s…` : "Reconnecting…"}`;
      };
      text();
      bannerTimer = setInterval(text, 500);
      connBanner.hidden = false;
    }
  });
  $("#conn-retry").addEventListener("click", () => player.reconnectNow());
}
