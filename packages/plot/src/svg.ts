// Small string helpers for writing SVG by hand: escaping, number formatting, elements.

/** Escapes text for SVG/HTML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A coordinate with at most 2 decimals (keeps files small). */
export function n2(v: number): string {
  if (!Number.isFinite(v)) return '0';
  const r = Math.round(v * 100) / 100;
  return String(Object.is(r, -0) ? 0 : r);
}

export type Attrs = Record<string, string | number | undefined>;

function attrs(a: Attrs): string {
  let s = '';
  for (const [k, v] of Object.entries(a)) {
    if (v === undefined) continue;
    s += ` ${k}="${typeof v === 'number' ? n2(v) : escapeXml(v)}"`;
  }
  return s;
}

/** `<tag a="…"/>` or `<tag a="…">children</tag>` (children are SVG, not escaped). */
export function el(tag: string, a: Attrs, children?: string): string {
  return children === undefined ? `<${tag}${attrs(a)}/>` : `<${tag}${attrs(a)}>${children}</${tag}>`;
}

/** The font stack of every figure: the bundled DejaVu Sans in Node's PNG renderer, similar sans fonts in a browser. */
export const FONT_FAMILY = "'DejaVu Sans', Verdana, 'Bitstream Vera Sans', sans-serif";

export interface TextStyle {
  size?: number;
  anchor?: 'start' | 'middle' | 'end';
  /** Vertical alignment of `y`: the text baseline (default), or the middle of the text. */
  baseline?: 'alphabetic' | 'middle' | 'hanging';
  weight?: 'normal' | 'bold';
  color?: string;
  /** Rotation in degrees around (x, y). */
  rotate?: number;
  className?: string;
}

/** A `<text>` element. The vertical alignment is done with `dy` (resvg and browsers agree on it). */
export function text(x: number, y: number, content: string, style: TextStyle = {}): string {
  const size = style.size ?? 12;
  const dy = style.baseline === 'middle' ? size * 0.35 : style.baseline === 'hanging' ? size * 0.8 : undefined;
  return el(
    'text',
    {
      x,
      y,
      dy,
      'font-size': size,
      'text-anchor': style.anchor && style.anchor !== 'start' ? style.anchor : undefined,
      'font-weight': style.weight === 'bold' ? 'bold' : undefined,
      fill: style.color,
      transform: style.rotate ? `rotate(${n2(style.rotate)} ${n2(x)} ${n2(y)})` : undefined,
      class: style.className,
    },
    escapeXml(content),
  );
}

/** Rough width of a text in the figure font (for layout: legends, label margins). */
export function textWidth(content: string, size = 12): number {
  return content.length * size * 0.6;
}

/** A number as a short label: integers as they are, others with 3 significant digits, exponents when tiny or huge. */
export function formatNumber(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(Math.max(0, digits - 1)).replace('e+', 'e');
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(digits)));
}
