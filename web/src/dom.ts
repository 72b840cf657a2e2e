/** Small DOM helpers for the page. */

/** The element with this id; a missing one means a broken build, not bad input. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no element #${id}`);
  return el as T;
}

/** Kinds of status line: working, done, failed, or cleared. */
export type StatusKind = "busy" | "ok" | "error" | "";

/** Shows one status line in `el`, styled by kind. */
export function setStatus(el: HTMLElement, kind: StatusKind, text: string): void {
  el.className = kind;
  el.textContent = text;
}

/** The message of anything thrown, as one line. */
export function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0];
}

/** Escapes text for HTML content and attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
