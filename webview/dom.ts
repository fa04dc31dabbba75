/** A small element builder: the panel's DOM is made in code, so nothing needs `innerHTML`. */

type Attributes = Record<string, string | number | boolean | undefined>;
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') element.className = String(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) if (child) parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
}

export function clear(element: Element): void {
  element.replaceChildren();
}

/** Sizes a canvas's backing store for the device pixel ratio; returns its 2-D context in CSS pixels. */
export function fitCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(width * ratio)), h = Math.max(1, Math.round(height * ratio));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}

export function formatWeight(weight: number): string {
  return weight === 0 ? '0' : weight >= 0.001 ? weight.toFixed(4) : weight.toExponential(2);
}

/** A weight as the panel shows it: marked ≈ when it travelled as float16 (within 2⁻¹¹ relative), exact otherwise. */
export function shownWeight(weight: number, approximate: boolean | undefined): string {
  return `${approximate && weight !== 0 ? '≈' : ''}${formatWeight(weight)}`;
}

/**
 * Calls `onResize` in the next animation frame after the element's size really changed. Redrawing
 * inside the observer's own callback can resize the element again in the same frame, which the
 * browser reports as a "ResizeObserver loop" and which moved the head view under the pointer.
 */
export function observeSize(element: HTMLElement, onResize: () => void): void {
  let width = -1, height = -1, frame = 0;
  new ResizeObserver(([entry]) => {
    const box = entry.contentRect;
    if (Math.round(box.width) === width && Math.round(box.height) === height) return;
    width = Math.round(box.width);
    height = Math.round(box.height);
    if (!frame) frame = requestAnimationFrame(() => {
      frame = 0;
      onResize();
    });
  }).observe(element);
}
