/**
 * Plain-text tables for the terminal: columns padded to their widest cell (capped), over-long cells cut with an
 * ellipsis, control characters shown escaped so a value from the incident cannot move the cursor or fake a line.
 */

/** A cell made safe to print: control characters as `\n`, `\x1b`, ... escapes. */
export function terminalSafe(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\t") return "\\t";
    if (c === "\r") return "\\r";
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

/**
 * Lays out a table.
 *
 * @param header column titles.
 * @param rows cells, one array per row.
 * @param maxWidth widest a column may be. Default 60.
 */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], maxWidth = 60): string[] {
  const safe = rows.map((r) => r.map(terminalSafe));
  const widths = header.map((h, i) => Math.min(maxWidth, Math.max(h.length, ...safe.map((r) => (r[i] ?? "").length))));
  const fmt = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (c.length > widths[i] ? `${c.slice(0, widths[i] - 1)}…` : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [fmt(header), ...safe.map(fmt)];
}
