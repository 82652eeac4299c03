// A client's rate over time (its `schedule`), as the engine draws it
// (simulations/components/rates.py): each shape becomes points (t, rps) joined by straight
// lines, a jump being two points at one time; after the last point the rate holds, or the
// periodic shapes (diurnal, bursts) repeat from `cycleFrom`. tests/js/schedule.test.mjs
// checks these against the engine's numbers.

const DIURNAL_PIECES = 48;

function held(times, rates) {
  return { times, rates, cycleFrom: times.length - 1 };
}

const SHAPES = {
  points(base, s) {
    const times = [0, s.points[0][0]];
    const rates = [base, base];
    for (const [t, r] of s.points) {
      times.push(t);
      rates.push(r);
    }
    return held(times, rates);
  },
  step: (base, s) => held([0, s.at_s, s.at_s], [base, base, s.to_rps]),
  ramp: (base, s) => held([0, s.start_s, s.end_s], [base, base, s.to_rps]),
  spike(base, s) {
    const top = s.at_s + s.rise_s;
    const down = top + s.hold_s;
    return held([0, s.at_s, top, down, down + s.decay_s],
                [base, base, s.peak_rps, s.peak_rps, base]);
  },
  diurnal(base, s) {
    const { period_s: period, peak_at_s: peakAt } = s;
    const rate = (t) => base + (s.peak_rps - base) * (1 + Math.cos(2 * Math.PI * (t - peakAt) / period)) / 2;
    const step = period / DIURNAL_PIECES;
    const before = Math.max(Math.ceil(peakAt / step) - 1, 0);
    const times = peakAt > 0 ? [0] : [];
    for (let k = before; k > 0; k--) times.push(peakAt - k * step);
    const cycleFrom = times.length;
    for (let k = 0; k <= DIURNAL_PIECES; k++) times.push(peakAt + k * step);
    return { times, rates: times.map(rate), cycleFrom };
  },
  bursts(base, s) {
    const first = s.first_s;
    const end = first + s.burst_s;
    return { times: [0, first, first, end, end, first + s.every_s],
             rates: [base, base, s.burst_rps, s.burst_rps, base, base], cycleFrom: 1 };
  },
};

export const SHAPE_NAMES = Object.keys(SHAPES);

/** The rate at time t of a client with rate_rps `base` and a complete, valid schedule
 * (null: `base` throughout). Just after t where the rate jumps. */
export function rateCurve(base, schedule) {
  if (!schedule) return () => base;
  const { times, rates, cycleFrom } = SHAPES[schedule.shape](base, schedule);
  const start = times[cycleFrom];
  const last = times[times.length - 1];
  const period = last - start;
  return (t) => {
    if (period > 0 && t >= last) t = start + ((t - start) % period);
    let i = 0;
    while (i < times.length && times[i] <= t) i++;
    if (i >= times.length) return rates[rates.length - 1];
    const [t0, t1, r0, r1] = [times[i - 1], times[i], rates[i - 1], rates[i]];
    return r0 + (r1 - r0) * (t - t0) / (t1 - t0);
  };
}

/** `n` + 1 samples [t, rps] of the rate from 0 to `duration`, and its peak among them. */
export function sampleRate(base, schedule, duration, n = 120) {
  const rate = rateCurve(base, schedule);
  const samples = [];
  for (let k = 0; k <= n; k++) {
    const t = duration * k / n;
    samples.push([t, rate(t)]);
  }
  return { samples, peak: Math.max(...samples.map(([, r]) => r)) };
}

/** A schedule of `shape` to start editing from: what it needs, in proportion to the
 * client's rate and the run's length (a person then changes it). */
export function starterSchedule(shape, base, duration, spec) {
  const rate = Math.max(base, 1);
  const at = Math.round(duration / 3);
  const starters = {
    points: { points: [[0, rate], [at, rate * 3], [2 * at, rate]] },
    step: { at_s: at, to_rps: rate * 2 },
    ramp: { start_s: at, end_s: 2 * at, to_rps: rate * 3 },
    spike: { at_s: at, peak_rps: rate * 5, rise_s: 0, hold_s: Math.round(duration / 6),
             decay_s: Math.round(duration / 6) },
    diurnal: { peak_rps: rate * 3, period_s: duration, peak_at_s: Math.round(duration / 2) },
    bursts: { burst_rps: rate * 4, every_s: Math.max(Math.round(duration / 6), 1),
              burst_s: Math.max(Math.round(duration / 30), 1), first_s: 0 },
  };
  const fields = spec?.shapes?.find((s) => s.name === shape)?.params || [];
  const out = { shape };
  for (const p of fields) {
    const v = starters[shape]?.[p.name] ?? p.default;
    out[p.name] = typeof v === "number" && p.maximum != null ? Math.min(v, p.maximum) : v;
  }
  return out;
}
