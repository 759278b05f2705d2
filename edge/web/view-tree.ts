/**
 * The pages' views as plain trees (pure, DOM-free): element names and attribute names are ours, text
 * and attribute values may come from calls (transcripts are the model's words, caller IDs are the
 * caller's). Text only ever becomes a text node (view-dom.ts) or escaped HTML (toHtml, for tests), and
 * only attributes that cannot run script or load anything are allowed: no `on*`, no `style`, no
 * `href`/`src`.
 */

export interface ViewElement {
  readonly tag: string;
  readonly svg: boolean;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly ViewNode[];
}
export type ViewNode = ViewElement | string;
type Child = ViewNode | null | undefined | false | readonly Child[];

const TAG = /^[a-z][a-z0-9]*$/;
const SAFE_ATTRIBUTE =
  /^(class|id|title|role|lang|datetime|for|type|value|disabled|hidden|tabindex|aria-[a-z]+|data-[a-z][a-z-]*|x|y|x1|x2|y1|y2|width|height|viewBox|rx|text-anchor|dominant-baseline|preserveAspectRatio)$/;

export function isSafeAttribute(name: string): boolean {
  return SAFE_ATTRIBUTE.test(name);
}

function isChildList(child: Child): child is readonly Child[] {
  return Array.isArray(child);
}

function flatten(children: readonly Child[], out: ViewNode[]): ViewNode[] {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (isChildList(child)) flatten(child, out);
    else out.push(child);
  }
  return out;
}

function element(tag: string, svg: boolean, attrs: Record<string, string>, children: Child[]): ViewElement {
  if (!TAG.test(tag)) throw new Error(`view: bad element name ${JSON.stringify(tag)}`);
  for (const name of Object.keys(attrs)) {
    if (!isSafeAttribute(name)) throw new Error(`view: attribute ${JSON.stringify(name)} is not allowed`);
  }
  return { tag, svg, attrs: { ...attrs }, children: flatten(children, []) };
}

/** An HTML element. */
export function h(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): ViewElement {
  return element(tag, false, attrs, children);
}

/** An SVG element. */
export function s(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): ViewElement {
  return element(tag, true, attrs, children);
}

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML text and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

const VOID_ELEMENTS = new Set(["br", "hr", "img", "input", "meta", "link", "wbr"]);

/** The tree as HTML text, everything escaped (for tests and snapshots; the pages use view-dom.ts). */
export function toHtml(node: ViewNode): string {
  if (typeof node === "string") return escapeHtml(node);
  const attrs = Object.entries(node.attrs)
    .map(([name, value]) => ` ${name}="${escapeHtml(value)}"`)
    .join("");
  if (!node.svg && VOID_ELEMENTS.has(node.tag)) return `<${node.tag}${attrs}>`;
  return `<${node.tag}${attrs}>${node.children.map(toHtml).join("")}</${node.tag}>`;
}

/** All the text of a tree, in order (what a reader sees). */
export function textOf(node: ViewNode): string {
  return typeof node === "string" ? node : node.children.map(textOf).join("");
}
