/** The architecture the demo runs (Höfling 2024 low-res core-readout), in OpenRetina's config keys. */
export interface DemoModelSummary {
  in_shape: [number, number, number, number];
  hidden_channels: number[];
  temporal_kernel_sizes: number[];
  spatial_kernel_sizes: number[];
  framesCut: number;
}

export function demoModelSummary(): DemoModelSummary {
  const temporal = [21, 11];
  return {
    in_shape: [2, 150, 18, 16],
    hidden_channels: [16, 16],
    temporal_kernel_sizes: temporal,
    spatial_kernel_sizes: [11, 5],
    framesCut: temporal.reduce((a, k) => a + k - 1, 0),
  };
}
