/**
 * Escaping for the exhibits (the custody export and the drill report). Every value that came from a record came,
 * in the end, from the incident (tags, names, error text an attacker can shape), so every one is escaped, numbers
 * included: a record is data, never markup.
 */
import { createHash } from "node:crypto";

/** Any value as display text: strings as they are, anything else as compact JSON. */
export function text(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Text for HTML element content and quoted attribute values. */
export function esc(value: unknown): string {
  return text(value)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/**
 * Text for a Markdown table cell or paragraph: every character CommonMark or GFM gives a meaning to inline (emphasis,
 * code, links, images, autolinks, raw HTML, entities, strikethrough, table pipes) is backslash-escaped, and line
 * breaks are folded so a value cannot start a heading, a list or a new table row.
 */
export function md(value: unknown): string {
  return text(value)
    .replace(/[\r\n\u2028\u2029]+/g, " ")
    .replace(/([\\`*_[\]<>|&~!#])/g, "\\$1");
}

/** A Markdown code span for a value that is safe in one (hex digests); anything else is escaped text. */
export function mdCode(value: unknown): string {
  const t = text(value);
  return /^[0-9A-Za-z+/=:._-]+$/.test(t) ? `\`${t}\`` : md(t);
}

/**
 * The Content-Security-Policy of an exhibit page: nothing may load or run, and the one stylesheet allowed is the
 * page's own, named by its hash, so no `style` attribute or element a record might smuggle in can apply
 * (no 'unsafe-inline').
 *
 * @param css the page's stylesheet, exactly as placed in its `<style>` element.
 */
export function contentSecurityPolicy(css: string): string {
  const hash = createHash("sha256").update(css, "utf8").digest("base64");
  return `default-src 'none'; style-src 'sha256-${hash}'; img-src 'none'; base-uri 'none'; form-action 'none'`;
}
