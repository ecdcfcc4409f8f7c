/** Edit distance (insertions, deletions, substitutions, and swaps of two neighbours: "lsit" is one from "list"). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/** The known word closest to a mistyped one, if it is close enough to be what was meant. */
export function closest(typed: string, known: readonly string[]): string | undefined {
  const word = typed.toLowerCase();
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = name.startsWith(word) && word.length >= 2 ? 0 : distance(word, name);
    if (!best || d < best.d) best = { name, d };
  }
  // At most a third of the word wrong (and at least one edit allowed): "usr" -> user, not "x" -> jwks.
  return best && best.d <= Math.max(1, Math.floor(best.name.length / 3)) ? best.name : undefined;
}

/** " Did you mean X?" or nothing. */
export const didYouMean = (typed: string, known: readonly string[]) => {
  const match = closest(typed, known);
  return match ? `Did you mean ${match}?` : '';
};
