/**
 * The colors canvases need, read from the CSS variables of media/panel.css (which map VS Code's
 * --vscode-* theme variables, with fallbacks for the standalone report). Re-read when the theme changes.
 */
import { divergingRamp, luminance, parseColor, sequentialRamp, type Rgb } from '../src/view-model/colors';

export interface Theme {
  readonly background: Rgb;
  readonly foreground: Rgb;
  readonly muted: Rgb;
  readonly accent: Rgb;
  readonly heat: Rgb;
  readonly mask: Rgb;
  /** Comparing with a baseline: more attention than in the baseline, and less. */
  readonly increase: Rgb;
  readonly decrease: Rgb;
  readonly highContrast: boolean;
  /** True for dark and dark high-contrast themes. */
  readonly dark: boolean;
  /** The heatmaps' 256 RGBA colors (colors.sequentialRamp for this theme). */
  readonly ramp: Uint8ClampedArray;
  /** colors.divergingRamp from decrease through the background to increase. */
  readonly diverging: Uint8ClampedArray;
  readonly font: string;
  readonly monoFont: string;
}

function color(style: CSSStyleDeclaration, name: string, fallback: Rgb): Rgb {
  return parseColor(style.getPropertyValue(name)) ?? fallback;
}

export function readTheme(): Theme {
  const style = getComputedStyle(document.body);
  const background = color(style, '--ai-bg', [255, 255, 255]);
  const foreground = color(style, '--ai-fg', [30, 30, 30]);
  const heat = color(style, '--ai-heat', [0, 102, 204]);
  const increase = color(style, '--ai-increase', [196, 87, 10]);
  const decrease = color(style, '--ai-decrease', [10, 97, 201]);
  const classes = document.body.classList;
  // A high-contrast light theme carries both high-contrast classes: test the light ones first.
  const dark = classes.contains('vscode-light') || classes.contains('vscode-high-contrast-light') ? false
    : classes.contains('vscode-dark') || classes.contains('vscode-high-contrast') ? true
    : luminance(background) < 0.4;
  return {
    dark,
    background, foreground, heat, increase, decrease,
    muted: color(style, '--ai-muted', [110, 110, 110]),
    accent: color(style, '--ai-accent', [0, 95, 184]),
    mask: color(style, '--ai-mask', [150, 150, 150]),
    highContrast: document.body.classList.contains('vscode-high-contrast') || document.body.classList.contains('vscode-high-contrast-light'),
    ramp: sequentialRamp(dark),
    diverging: divergingRamp(decrease, background, increase),
    font: style.getPropertyValue('--ai-font').trim() || 'sans-serif',
    monoFont: style.getPropertyValue('--ai-mono').trim() || 'monospace',
  };
}

/** Calls `onChange` when VS Code switches theme (it swaps classes on body) or the OS scheme changes. */
export function watchTheme(onChange: () => void): void {
  new MutationObserver(onChange).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', onChange);
}
