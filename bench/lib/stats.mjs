/** Small statistics helpers: medians and ratios, rounded for tables. */

export function median(xs) {
  const v = xs.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export function round(x, digits = 1) {
  if (typeof x !== "number" || !Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** a / b, or undefined when either is missing or b is 0. */
export function ratio(a, b) {
  if (typeof a !== "number" || typeof b !== "number" || b === 0) return undefined;
  return a / b;
}

export function sum(xs) {
  return xs.reduce((a, b) => a + (b ?? 0), 0);
}
