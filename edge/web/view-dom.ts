/**
 * Turns a view tree (view-tree.ts) into DOM nodes: elements with createElement(NS), text with text nodes,
 * attributes with setAttribute after the same allow-list check. No HTML parsing anywhere, so the pages
 * run under `require-trusted-types-for 'script'`.
 */
import { isSafeAttribute, type ViewNode } from "./view-tree.ts";

const SVG_NS = "http://www.w3.org/2000/svg";

export function toDom(node: ViewNode, doc: Document = document): Node {
  if (typeof node === "string") return doc.createTextNode(node);
  const element = node.svg ? doc.createElementNS(SVG_NS, node.tag) : doc.createElement(node.tag);
  for (const [name, value] of Object.entries(node.attrs)) {
    if (!isSafeAttribute(name)) throw new Error(`view: attribute ${name} is not allowed`);
    element.setAttribute(name, value);
  }
  for (const child of node.children) element.appendChild(toDom(child, doc));
  return element;
}

/** Replaces what `host` shows with `nodes`. */
export function render(host: Element, ...nodes: ViewNode[]): void {
  host.replaceChildren(...nodes.map((node) => toDom(node, host.ownerDocument)));
}

/** The element with this id, or an error naming it (the pages' HTML and scripts ship together). */
export function byId<T extends HTMLElement>(id: string, type: { new (): T }): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`page: #${id} is missing or not a ${type.name}`);
  return element;
}
