/** Running means of named values weighted by batch size (Lightning's epoch-level logging of per-batch values). */
export class WeightedMeans {
  private readonly sums: Record<string, number> = {};
  private weight = 0;

  /** Adds one batch's values with weight `w` (its batch size). */
  add(values: Record<string, number>, w: number): void {
    for (const [k, v] of Object.entries(values)) this.sums[k] = (this.sums[k] ?? 0) + v * w;
    this.weight += w;
  }

  get empty(): boolean {
    return this.weight === 0;
  }

  /** The means, in the order the names were first added. */
  values(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.sums).map(([k, v]) => [k, v / this.weight]));
  }
}
