import { distance } from "fastest-levenshtein";

/** The closest candidate within a small edit distance, for "did you mean" hints. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  const lower = name.toLowerCase();
  for (const c of candidates) {
    const d = c.toLowerCase() === lower ? 0 : distance(lower, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const limit = Math.max(2, Math.floor(name.length / 3));
  return best !== undefined && bestD <= limit ? best : undefined;
}

export function didYouMeanHint(name: string, candidates: Iterable<string>): string {
  const s = didYouMean(name, candidates);
  return s ? `; did you mean "${s}"?` : "";
}
