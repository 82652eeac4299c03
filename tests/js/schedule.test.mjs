// A client's schedule drawn in the inspector: the same rate as the engine's
// (simulations/components/rates.py; the numbers below are its rate(t) for these shapes).
import { test } from "node:test";
import assert from "node:assert/strict";

import { rateCurve, sampleRate, starterSchedule } from "../../static/playground/schedule.js";

const close = (a, b) => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

test("named shapes: step, ramp, spike, bursts, points", () => {
  const step = rateCurve(40, { shape: "step", at_s: 30, to_rps: 150 });
  assert.deepEqual([step(29.9), step(30), step(1000)], [40, 150, 150]);
  close(rateCurve(40, { shape: "ramp", start_s: 20, end_s: 80, to_rps: 200 })(50), 120);
  const spike = rateCurve(40, { shape: "spike", at_s: 25, peak_rps: 400, rise_s: 2, hold_s: 15,
                                decay_s: 30 });
  [[24, 40], [26, 220], [40, 400], [57, 220], [80, 40]].forEach(([t, r]) => close(spike(t), r));
  const bursts = rateCurve(40, { shape: "bursts", burst_rps: 300, every_s: 15, burst_s: 3,
                                 first_s: 4 });
  assert.deepEqual([3.9, 4, 6.9, 7, 19, 22, 34.5].map(bursts), [40, 300, 300, 40, 300, 40, 300]);
  const points = rateCurve(40, { shape: "points", points: [[10, 20], [40, 120]] });
  assert.deepEqual([points(5), points(10), points(25), points(500)], [40, 20, 70, 120]);
  assert.equal(rateCurve(40, null)(12), 40);
});

test("diurnal: the peak at peak_at_s and every period after, the trough half-way", () => {
  const day = rateCurve(40, { shape: "diurnal", peak_rps: 160, period_s: 40, peak_at_s: 12 });
  [[12, 160], [52, 160], [32, 40], [72, 40]].forEach(([t, r]) => close(day(t), r));
});

test("samples over the run and their peak", () => {
  const { samples, peak } = sampleRate(10, { shape: "spike", at_s: 20, peak_rps: 90, rise_s: 0,
                                             hold_s: 20, decay_s: 0 }, 60, 6);
  assert.deepEqual(samples.map(([t]) => t), [0, 10, 20, 30, 40, 50, 60]);
  assert.deepEqual(samples.map(([, r]) => r), [10, 10, 90, 90, 10, 10, 10]);
  assert.equal(peak, 90);
});

test("a starter schedule has every field of its shape, within its bounds", () => {
  const spec = { shapes: [{ name: "spike", params: [
    { name: "at_s", default: null }, { name: "peak_rps", default: null, maximum: 200000 },
    { name: "rise_s", default: 0 }, { name: "hold_s", default: 60 }, { name: "decay_s", default: 60 }] }] };
  assert.deepEqual(starterSchedule("spike", 100, 300, spec),
                   { shape: "spike", at_s: 100, peak_rps: 500, rise_s: 0, hold_s: 50, decay_s: 50 });
  assert.equal(starterSchedule("spike", 150000, 300, spec).peak_rps, 200000);
});
