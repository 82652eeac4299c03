// Numbers, times and labels as every view shows them.
import { test } from "node:test";
import assert from "node:assert/strict";

import { ago, clock, compact, money, ms, num, paramLabel, percent, plural, shortClock,
         words } from "../../static/playground/format.js";

test("clock and shortClock", () => {
  assert.equal(clock(0), "00:00.0");
  assert.equal(clock(65.37), "01:05.3");
  assert.equal(clock(3725.5), "1:02:05.5");
  assert.equal(clock(-3), "00:00.0");
  assert.equal(clock(NaN), "00:00.0");
  assert.equal(clock(0.3), "00:00.3"); // 0.3 * 10 is 2.9999999999999996
  assert.equal(shortClock(59.6), "1:00");
});

test("num, compact, percent, ms", () => {
  assert.equal(num(1234.5), "1,235");
  assert.equal(num(12.345), "12.3");
  assert.equal(num(0.4251), "0.43");
  assert.equal(num(12.345, 0), "12");
  assert.equal(num(null), "—");
  assert.equal(num("x"), "x");
  assert.equal(compact(1500), "1.5k");
  assert.equal(compact(25_000), "25k");
  assert.equal(compact(3_400_000), "3.4M");
  assert.equal(compact(NaN), "—");
  assert.equal(percent(0.256), "26%");
  assert.equal(percent(0.256, 1), "25.6%");
  assert.equal(ms(850), "850 ms");
  assert.equal(ms(12_500), "12.5 s");
});

test("money rounds half up from the written digits", () => {
  assert.equal(money(0.825), "0.83");
  assert.equal(money(1234.5), "1,234.50");
  assert.equal(money(-0.004), "0.00");
  assert.equal(money(-2.5), "-2.50");
  assert.equal(money(1e-9), "0.00");
  assert.equal(money(null), "–");
});

test("words, labels and plurals", () => {
  assert.equal(words("round_robin"), "round robin");
  assert.equal(paramLabel("service_ms"), "Service");
  assert.equal(paramLabel("mtbf_s"), "MTBF");
  // a unit stripped would leave two fields "Encoding": the time has its own label
  assert.equal(paramLabel("encoding"), "Encoding");
  assert.equal(paramLabel("encoding_ms"), "Encoding time");
  assert.equal(paramLabel("bandwidth_mbps"), "Bandwidth");
  assert.equal(paramLabel("capacity_keys"), "Capacity keys");
  assert.equal(plural(1, "link"), "1 link");
  assert.equal(plural(2, "link"), "2 links");
  assert.equal(plural(0, "query", "queries"), "0 queries");
});

test("ago", () => {
  const now = Date.parse("2026-01-10T12:00:00Z");
  assert.equal(ago(now - 10_000, now), "just now");
  assert.equal(ago(new Date(now - 5 * 60_000), now), "5 min ago");
  assert.equal(ago("2026-01-10T09:00:00Z", now), "3 hours ago");
  assert.equal(ago(now - 2 * 86_400_000, now), "2 days ago");
  assert.equal(ago("2025-06-01T00:00:00Z", now), "1 Jun 2025");
  assert.equal(ago("not a date", now), "");
});
