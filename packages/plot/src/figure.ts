// A figure: a white page of fixed size with a title, holding panels (axes, polar plots, images, colour bars, text).
import { Axes, type AxesOptions, type Rect } from './axes.js';
import { colormap, hex, type Colormap, type ColormapName } from './colormaps.js';
import { colorize, mapLimits, pngDataUri, type MapData, type RgbaImage } from './image.js';
import { PolarAxes, type PolarOptions } from './polar.js';
import { niceTicks, tickLabels } from './scale.js';
import { el, FONT_FAMILY, text, type TextStyle } from './svg.js';

export interface FigureOptions {
  width: number;
  height: number;
  title?: string;
  /** A smaller second line under the title (e.g. session, neuron, objective). */
  subtitle?: string;
  fontSize?: number;
  background?: string;
}

export interface ColorbarOptions {
  label?: string;
  /** Tick values (default: nice ticks over the limits). */
  ticks?: readonly number[];
  fontSize?: number;
}

export interface ImagePanelOptions {
  cmap?: ColormapName | Colormap;
  /** Colour limits (default: symmetric ±max|v| for diverging maps, min…max otherwise). */
  limits?: readonly [number, number];
  title?: string;
  /** A colour bar right of the image, with this label (`true`: no label). */
  colorbar?: boolean | string;
  /** A scale bar under the image: its length in map pixels and its label (e.g. `{ pixels: 1, label: '50 µm' }`). */
  scaleBar?: { pixels: number; label: string };
  /** Frame colour (default dark grey; `none` for no frame). */
  frame?: string;
  fontSize?: number;
  id?: string;
}

/** Where an image panel drew its map (for overlays: markers, contours). */
export interface ImagePlacement {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Screen pixels per map pixel. */
  pixel: number;
  limits: [number, number];
}

/**
 * Builds one SVG figure. Panels are placed by rectangles in figure pixels ({@link gridRects} makes a grid); `toSvg()`
 * renders everything into a self-contained SVG string (images embedded as PNG data).
 */
export class Figure {
  private readonly parts: (string | { render(): string })[] = [];
  readonly fontSize: number;
  /** Height used by the title block (panels start below it). */
  readonly top: number;
  private size: { width: number; height: number };

  constructor(readonly options: FigureOptions) {
    this.fontSize = options.fontSize ?? 12;
    this.top = options.title ? (options.subtitle ? this.fontSize * 3.6 : this.fontSize * 2.3) : 0;
    this.size = { width: options.width, height: options.height };
  }

  get width(): number {
    return this.size.width;
  }

  get height(): number {
    return this.size.height;
  }

  /** Changes the page height (for figures whose height follows their content, known after `top`). */
  setHeight(height: number): this {
    this.size.height = height;
    return this;
  }

  axes(rect: Rect, options: AxesOptions = {}): Axes {
    const a = new Axes(rect, options);
    this.parts.push(a);
    return a;
  }

  polar(rect: Rect, directions: readonly number[], options: PolarOptions = {}): PolarAxes {
    const p = new PolarAxes(rect, directions, options);
    this.parts.push(p);
    return p;
  }

  text(x: number, y: number, content: string, style: TextStyle = {}): this {
    this.parts.push(text(x, y, content, { size: this.fontSize, ...style }));
    return this;
  }

  /** Raw SVG markup (drawn in order with the panels). */
  raw(svg: string): this {
    this.parts.push(svg);
    return this;
  }

  /**
   * A colour-mapped map fitted into `rect` with square pixels (title above, optional colour bar and scale bar);
   * returns where the map landed.
   */
  image(rect: Rect, map: MapData, options: ImagePanelOptions = {}): ImagePlacement {
    const fs = options.fontSize ?? this.fontSize * 0.92;
    const cmap = typeof options.cmap === 'object' ? options.cmap : colormap(options.cmap ?? 'viridis');
    const limits: [number, number] = options.limits ? [options.limits[0], options.limits[1]] : mapLimits(map.values, cmap);
    const titleH = options.title ? fs * 1.6 : 0;
    const barW = options.colorbar ? fs * 5.5 : 0;
    const scaleH = options.scaleBar ? fs * 2 : 0;
    const pixel = Math.max(0.5, Math.min((rect.width - barW) / map.width, (rect.height - titleH - scaleH) / map.height));
    const width = map.width * pixel;
    const height = map.height * pixel;
    const x = rect.x + (rect.width - barW - width) / 2;
    const y = rect.y + titleH;
    const uri = pngDataUri({ data: colorize(map, cmap, limits), width: map.width, height: map.height }, width);
    const parts: string[] = [el('image', { x, y, width, height, preserveAspectRatio: 'none', href: uri })];
    if (options.frame !== 'none') parts.push(el('rect', { x, y, width, height, fill: 'none', stroke: options.frame ?? '#333' }));
    if (options.title) parts.push(text(x + width / 2, rect.y + fs * 1.1, options.title, { size: fs, anchor: 'middle' }));
    if (options.scaleBar) {
      const len = options.scaleBar.pixels * pixel;
      const by = y + height + fs * 0.5;
      parts.push(el('rect', { x, y: by, width: len, height: Math.max(2, fs * 0.25), fill: '#000' }));
      parts.push(text(x + len + fs * 0.4, by + fs * 0.2, options.scaleBar.label, { size: fs, baseline: 'middle' }));
    }
    if (options.colorbar) {
      parts.push(
        colorbar({ x: x + width + fs * 0.6, y, width: fs * 0.9, height }, cmap, limits, {
          fontSize: fs * 0.9,
          ...(typeof options.colorbar === 'string' ? { label: options.colorbar } : {}),
        }),
      );
    }
    this.parts.push(el('g', { class: 'image-panel', 'data-panel': options.id }, parts.join('')));
    return { x, y, width, height, pixel, limits };
  }

  /** An RGB(A) picture (e.g. a stimulus frame) fitted into `rect` with square pixels. */
  picture(rect: Rect, img: RgbaImage, options: { title?: string; fontSize?: number } = {}): ImagePlacement {
    const fs = options.fontSize ?? this.fontSize * 0.92;
    const titleH = options.title ? fs * 1.6 : 0;
    const pixel = Math.min(rect.width / img.width, (rect.height - titleH) / img.height);
    const width = img.width * pixel;
    const height = img.height * pixel;
    const x = rect.x + (rect.width - width) / 2;
    const y = rect.y + titleH;
    this.parts.push(el('image', { x, y, width, height, preserveAspectRatio: 'none', href: pngDataUri(img, width) }));
    this.parts.push(el('rect', { x, y, width, height, fill: 'none', stroke: '#333' }));
    if (options.title) this.parts.push(text(x + width / 2, rect.y + fs * 1.1, options.title, { size: fs, anchor: 'middle' }));
    return { x, y, width, height, pixel, limits: [0, 1] };
  }

  /** A vertical colour bar. */
  colorbar(rect: Rect, cmap: ColormapName | Colormap, limits: readonly [number, number], options: ColorbarOptions = {}): this {
    this.parts.push(
      colorbar(rect, typeof cmap === 'object' ? cmap : colormap(cmap), limits, { fontSize: this.fontSize * 0.9, ...options }),
    );
    return this;
  }

  toSvg(): string {
    const { width, height } = this.size;
    const fs = this.fontSize;
    const head: string[] = [el('rect', { width, height, fill: this.options.background ?? 'white' })];
    if (this.options.title) head.push(text(width / 2, fs * 1.6, this.options.title, { size: fs * 1.35, anchor: 'middle', weight: 'bold' }));
    if (this.options.subtitle) head.push(text(width / 2, fs * 3, this.options.subtitle, { size: fs, anchor: 'middle', color: '#444' }));
    const body = this.parts.map((p) => (typeof p === 'string' ? p : p.render())).join('\n');
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY.replace(/"/g, '&quot;')}" font-size="${fs}" fill="#222">\n${head.join('\n')}\n${body}\n</svg>\n`;
  }
}

/** A vertical colour bar as an SVG group (gradient, ticks, label). */
export function colorbar(rect: Rect, cmap: Colormap, limits: readonly [number, number], options: ColorbarOptions = {}): string {
  const fs = options.fontSize ?? 11;
  const [lo, hi] = limits;
  // The id names the gradient by what it draws (the colour map; the place keeps ids apart in one figure), never by a
  // counter, so the same figure gives the same bytes. Figures inlined in one page that share an id share the very same
  // gradient, so whichever definition a bar finds draws it right.
  const id = `cb-${cmap.name}-${Math.round(rect.x)}-${Math.round(rect.y)}`;
  const stops = Array.from({ length: 17 }, (_, i) =>
    el('stop', { offset: `${(i / 16) * 100}%`, 'stop-color': hex(cmap.at(1 - i / 16)) }),
  ).join('');
  const ticks = (options.ticks ?? niceTicks(lo, hi, Math.max(2, Math.floor(rect.height / 30)))).filter(
    (t) => t >= Math.min(lo, hi) && t <= Math.max(lo, hi),
  );
  const labels = tickLabels(ticks);
  const ty = (v: number) => rect.y + rect.height - ((v - lo) / (hi - lo || 1)) * rect.height;
  const parts = [
    el('defs', {}, el('linearGradient', { id, x1: 0, y1: 0, x2: 0, y2: 1 }, stops)),
    el('rect', { x: rect.x, y: rect.y, width: rect.width, height: rect.height, fill: `url(#${id})`, stroke: '#333' }),
    ...ticks.map(
      (t, i) =>
        el('line', { x1: rect.x + rect.width, x2: rect.x + rect.width + 3, y1: ty(t), y2: ty(t), stroke: '#333' }) +
        text(rect.x + rect.width + 5, ty(t), labels[i]!, { size: fs, baseline: 'middle' }),
    ),
  ];
  if (options.label) {
    const widest = Math.max(0, ...labels.map((l) => l.length)) * fs * 0.6;
    const lx = rect.x + rect.width + fs * 1.4 + widest;
    parts.push(text(lx, rect.y + rect.height / 2, options.label, { size: fs, anchor: 'middle', rotate: -90 }));
  }
  return el('g', { class: 'colorbar' }, parts.join(''));
}

/** `rows × cols` equal rectangles filling `area` with `gap` pixels between them (row-major). */
export function gridRects(area: Rect, rows: number, cols: number, gap = 12): Rect[] {
  const w = (area.width - gap * (cols - 1)) / cols;
  const h = (area.height - gap * (rows - 1)) / rows;
  const out: Rect[] = [];
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out.push({ x: area.x + c * (w + gap), y: area.y + r * (h + gap), width: w, height: h });
  return out;
}
