/**
 * How fast a run reaches the panel: when each layer arrived from the engine and when the panel's header
 * first counted it, when the current view first drew data, and when the engine finished. Times are
 * milliseconds since the run began, on the extension host's clock (the panel's reports included their
 * trip back). Tests and the closing numbers of issue 15 read it through the API.
 */

export interface LayerDelivery {
  /** The layer's place in the stream (0: the first layer the engine produced). */
  readonly index: number;
  /** When the host had it from the engine. */
  readonly engineMs: number;
  /** When the panel said it counts it; null while it has not. */
  readonly panelMs: number | null;
}

export interface Delivery {
  readonly runId: number;
  readonly layers: readonly LayerDelivery[];
  /** When the panel's current view first drew this run's data. */
  readonly firstViewMs: number | null;
  /** When the engine finished the run. */
  readonly finishedMs: number | null;
}

export class DeliveryLog {
  private started = Date.now();
  private runId = 0;
  private engineMs: number[] = [];
  private panelMs: (number | null)[] = [];
  private firstViewMs: number | null = null;
  private finishedMs: number | null = null;

  begin(runId: number): void {
    this.started = Date.now();
    this.runId = runId;
    this.engineMs = [];
    this.panelMs = [];
    this.firstViewMs = null;
    this.finishedMs = null;
  }

  engineLayer(): void {
    this.engineMs.push(this.now());
    this.panelMs.push(null);
  }

  engineFinished(): void {
    this.finishedMs = this.now();
  }

  /** The panel's report: it counts `layers` layers of run `runId`, and its view does (not) show data. */
  panelShown(runId: number, layers: number, viewReady: boolean): void {
    if (runId !== this.runId) return;
    const now = this.now();
    for (let i = 0; i < Math.min(layers, this.panelMs.length); i++) this.panelMs[i] ??= now;
    if (viewReady) this.firstViewMs ??= now;
  }

  snapshot(): Delivery {
    return {
      runId: this.runId, firstViewMs: this.firstViewMs, finishedMs: this.finishedMs,
      layers: this.engineMs.map((engineMs, index) => ({ index, engineMs, panelMs: this.panelMs[index] })),
    };
  }

  private now(): number {
    return Date.now() - this.started;
  }
}
