/// <reference lib="dom" />
/**
 * Building DOM nodes: attributes and text are set as such, never parsed as HTML, which keeps
 * hostile run output as text.
 */

export type Child = Node | string | null | undefined | false;
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

export function nodes(children: Child[]): Array<Node | string> {
  return children.filter((child): child is Node | string => child !== null && child !== undefined && child !== false);
}
