// @openretina/plot: static figures as SVG strings, the same in Node and the browser (no DOM, no TF.js).
export { Figure, colorbar, gridRects } from './figure.js';
export type { FigureOptions, ColorbarOptions, ImagePanelOptions, ImagePlacement } from './figure.js';
export { Axes } from './axes.js';
export type { AxesOptions, Rect, Margins, LineStyle, PointStyle, BarStyle, HistogramOptions, HeatmapOptions } from './axes.js';
export { PolarAxes } from './polar.js';
export type { PolarOptions, PolarSeries } from './polar.js';
export {
  colormap,
  colorAt,
  viridis,
  divergingColor,
  hex,
  channelStyle,
  stimulusPixel,
  SERIES_COLORS,
  CHANNEL_COLORS,
} from './colormaps.js';
export type { RGB, Colormap, ColormapName } from './colormaps.js';
export { mapLimits, colorize, upscale, pngDataUri, encodeRgbaPng, base64 } from './image.js';
export { encodeScaledPng } from './png.js';
export type { MapData, RgbaImage } from './image.js';
export { encodeGif } from './animation.js';
export { Scale, niceTicks, niceStep, extent, tickLabels } from './scale.js';
export type { ScaleType } from './scale.js';
export { escapeXml, formatNumber, text, el, textWidth, FONT_FAMILY } from './svg.js';
export type { TextStyle, Attrs } from './svg.js';
