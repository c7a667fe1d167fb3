/// <reference lib="dom" />
// Small DOM helpers for the pages' client code. Text always goes in through textContent: names read from a
// profiled program are data, never markup.

export interface ElementProps {
  id?: string;
  className?: string;
  text?: string;
  title?: string;
}

export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: ElementProps = {},
  children: ReadonlyArray<Node | string> = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.id) node.id = props.id;
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  if (props.title) node.title = props.title;
  node.append(...children);
  return node;
}

/** A canvas's 2D context sized for `width` × `height` CSS pixels at the screen's pixel density. */
export function sizeCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.max(1, Math.round(width * ratio));
  canvas.height = Math.max(1, Math.round(height * ratio));
  canvas.style.height = `${height}px`;
  const context = canvas.getContext('2d')!;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  return context;
}

/** Shows `text` in a floating tooltip next to the pointer. */
export function showTooltip(tooltip: HTMLElement, text: string, clientX: number, clientY: number): void {
  tooltip.textContent = text;
  tooltip.hidden = false;
  const left = Math.min(clientX + 14, window.innerWidth - tooltip.offsetWidth - 8);
  tooltip.style.left = `${Math.max(4, left)}px`;
  tooltip.style.top = `${clientY + 16}px`;
}
