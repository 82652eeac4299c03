// Number, time and id formatting shared by the views.

/** Simulated seconds as mm:ss.s (hh:mm:ss.s past an hour). */
export function clock(t) {
  if (!Number.isFinite(t) || t < 0) t = 0;
  const tenths = Math.floor(t * 10 + 1e-6);
  const s = Math.floor(tenths / 10);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n) => String(n).padStart(2, "0");
  const head = h ? `${h}:${pad(m)}` : pad(m);
  return `${head}:${pad(sec)}.${tenths % 10}`;
}

/** Whole seconds as m:ss for axes and timelines. */
export function shortClock(t) {
  const s = Math.max(0, Math.round(t));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

const grouped = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
const grouped1 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
const grouped0 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** A readable number: 1,234 / 12.5 / 0.42; null-ish values become an em dash. */
export function num(v, digits) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  if (typeof v !== "number") return String(v);
  if (digits === 0) return grouped0.format(v);
  if (digits === 1) return grouped1.format(v);
  if (Math.abs(v) >= 100) return grouped0.format(v);
  if (Math.abs(v) >= 10) return grouped1.format(v);
  return grouped.format(v);
}

/** Compact: 1.2k, 3.4M. */
export function compact(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  const a = Math.abs(v);
  if (a >= 1e6) return `${grouped1.format(v / 1e6)}M`;
  if (a >= 1e4) return `${grouped0.format(v / 1e3)}k`;
  if (a >= 1e3) return `${grouped1.format(v / 1e3)}k`;
  return num(v);
}

/** A cost as every page shows it (services.money on the server is its twin): two decimals,
 * rounded half up from the number as it is written (0.825 is 0.83, though the float is a
 * hair below it and toFixed would say 0.82), thousands grouped; none is an en dash. */
export function money(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  // `${a}e2` shifts the written digits, not the binary value; below 1e-6 JS writes an
  // exponent, and such a cost is 0.00 anyway
  const cents = a < 1e-6 ? 0 : Math.round(Number(`${a}e2`));
  const whole = grouped0.format(Math.floor(cents / 100));
  return `${v < 0 && cents ? "-" : ""}${whole}.${String(cents % 100).padStart(2, "0")}`;
}

export function percent(v, digits = 0) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  return `${(v * 100).toFixed(digits)}%`;
}

/** Milliseconds with a unit that fits: 850 ms, 1.2 s. */
export function ms(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  if (v >= 10000) return `${num(v / 1000, 1)} s`;
  return `${num(v)} ms`;
}

/** A value the way the validator prints bounds (Python's str of int/float, roughly). */
export function bound(v) {
  return Number.isInteger(v) ? String(v) : String(v);
}

/** snake_case registry names as words: "round_robin" -> "round robin". */
export function words(name) {
  return String(name).replace(/_/g, " ");
}

/** A parameter name as a label: "service_ms" -> "Service", "rate_rps" -> "Rate". */
const ACRONYMS = { mtbf: "MTBF", mttr: "MTTR", ttl: "TTL", cv: "CV", lru: "LRU", lfu: "LFU",
                   fifo: "FIFO", ip: "IP", id: "ID", rps: "RPS" };
// Names whose unit alone would leave them unclear, or the same as another field's
// ("encoding" and "encoding_ms").
const LABELS = { request_kb: "Request size", response_kb: "Response size",
                 bandwidth_mbps: "Bandwidth", overhead_kb: "Overhead",
                 encoding_ms: "Encoding time", retransmit_ms: "Retransmit timeout" };
export function paramLabel(name) {
  if (Object.hasOwn(LABELS, name)) return LABELS[name];
  const stripped = String(name).replace(/_(ms|s|rps)$/, "");
  const text = stripped.split("_").map((w) => ACRONYMS[w] || w).join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/** How long ago a moment was (a Date, ISO text or ms): "just now", "5 min ago", "3 days ago". */
export function ago(when, now = Date.now()) {
  const t = when instanceof Date ? when.getTime() : typeof when === "number" ? when : Date.parse(when);
  if (!Number.isFinite(t)) return "";
  const s = Math.max(0, (now - t) / 1000);
  if (s < 45) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return plural(Math.round(s / 3600), "hour") + " ago";
  if (s < 86400 * 30) return plural(Math.round(s / 86400), "day") + " ago";
  return new Date(t).toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric" });
}
