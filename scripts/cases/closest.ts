/**
 * "Did you mean": the existing case IDs closest to a mistyped one. Case IDs are typed under stress, and the typos
 * that matter are a dropped or doubled digit (IR-2026-42 for IR-2026-042) and two swapped characters
 * (IR-2026-0024 for IR-2026-0042), so the distance counts a transposition as one edit (optimal string alignment),
 * which the plain Levenshtein distance of the usual libraries does not.
 */

/**
 * Edit distance between two strings, counting insertion, deletion, substitution and the transposition of two
 * adjacent characters as one edit each (optimal string alignment distance), case-insensitively.
 *
 * @param a one string.
 * @param b the other.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  // rows[i][j]: distance between the first i characters of s and the first j of t.
  const rows: number[][] = Array.from({ length: s.length + 1 }, (_, i) =>
    Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1])
        best = Math.min(best, rows[i - 2][j - 2] + 1);
      rows[i][j] = best;
    }
  }
  return rows[s.length][t.length];
}

/**
 * The existing IDs closest to `typed`, nearest first (ties in alphabetical order), at most `count`.
 *
 * @param typed the ID the operator typed.
 * @param existing every existing case ID.
 * @param count how many to name. Default 3.
 */
export function closestIds(typed: string, existing: readonly string[], count = 3): string[] {
  return existing
    .filter((id) => id !== typed)
    .map((id) => ({ id, distance: editDistance(typed, id) }))
    .sort((x, y) => x.distance - y.distance || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
    .slice(0, count)
    .map((x) => x.id);
}
