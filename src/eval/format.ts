/** Number formatting shared by the text and Markdown reports. */

/** A fraction in [0, 1] as a percentage with two decimals; null as the given placeholder. */
export function pct(x: number | null, none = "-"): string {
  return x === null ? none : (100 * x).toFixed(2);
}

/** MACs with an SI suffix and three significant digits: 1234567 -> "1.23M". */
export function macs(x: number | null, none = "-"): string {
  if (x === null) return none;
  const abs = Math.abs(x);
  const units: [number, string][] = [
    [1e12, "T"],
    [1e9, "G"],
    [1e6, "M"],
    [1e3, "K"],
  ];
  for (const [scale, suffix] of units) if (abs >= scale) return `${trim3(x / scale)}${suffix}`;
  return trim3(x);
}

function trim3(x: number): string {
  if (Number.isInteger(x)) return String(x);
  return Number(x.toPrecision(3)).toString();
}

/** A threshold; +Infinity (closed exit) as "off". */
export function theta(x: number): string {
  return Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : "off";
}

/** Exit shares as percentages joined by "/": [0.5, 0.3, 0.2] -> "50/30/20". */
export function shares(fractions: readonly number[]): string {
  return fractions.map((f) => Number((100 * f).toFixed(1)).toString()).join("/");
}
