/** A progress line for long work: step, loss, tokens/s and ETA, on stderr. */

/** Formats seconds as 1h02m, 4m05s or 12s. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/** Tracks throughput since the start and prints one line per report. */
export class Progress {
  private readonly start = performance.now();
  private tokens = 0;
  private readonly firstStep: number;

  constructor(private readonly label: string, private readonly total: number, firstStep: number, private readonly write: (line: string) => void) {
    this.firstStep = firstStep;
  }

  /** Counts the tokens of a finished step. */
  tick(tokens: number): void {
    this.tokens += tokens;
  }

  /** Prints the line for `step` (0-based) with the given values. */
  report(step: number, values: Record<string, number>): void {
    const elapsed = (performance.now() - this.start) / 1000;
    const done = step + 1 - this.firstStep;
    const eta = (elapsed / Math.max(1, done)) * (this.total - step - 1);
    const shown = Object.entries(values).map(([k, v]) => `${k} ${formatValue(v)}`).join(" | ");
    this.write(`${this.label} step ${step + 1}/${this.total} | ${shown} | ${Math.round(this.tokens / Math.max(elapsed, 1e-9))} tok/s | ETA ${formatDuration(eta)}`);
  }
}

function formatValue(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4);
}
