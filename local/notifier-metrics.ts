/**
 * The notifier's metrics, counted in memory instead of printed as CloudWatch EMF lines:
 * the local run shows them in its summary. Implements the part of Powertools' `Metrics`
 * the notifier uses (`addMetric`, `singleMetric().addDimension/addMetric`,
 * `publishStoredMetrics`).
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';

export class CountingMetrics {
  private readonly totals = new Map<string, number>();

  /** A metric's total, or its total for one dimension value (`EventType` → `compute_node.create`). */
  total(name: string, dimension?: { name: string; value: string }): number {
    return this.totals.get(dimension === undefined ? name : `${name}|${dimension.name}=${dimension.value}`) ?? 0;
  }

  addMetric(name: string, _unit: unknown, value: number): void {
    this.totals.set(name, (this.totals.get(name) ?? 0) + value);
  }

  singleMetric() {
    const dimensions: string[] = [];
    const self = this;
    return {
      addDimension(name: string, value: string) {
        dimensions.push(`${name}=${value}`);
      },
      // As Powertools' single metric: published on addMetric, then its dimensions are cleared.
      addMetric(name: string, unit: unknown, value: number) {
        self.addMetric(name, unit, value);
        for (const d of dimensions) self.addMetric(`${name}|${d}`, unit, value);
        dimensions.length = 0;
      },
    };
  }

  publishStoredMetrics(): void {}

  /** This object where the notifier expects Powertools' `Metrics`. */
  asMetrics(): Metrics {
    return this as unknown as Metrics;
  }
}
