// The report: rows (procpool against its baseline, with the targets), the text table, the SVG chart.

import { median, spread } from "./stats.ts";

/** One measurement's samples (one per round), or why it failed. */
export interface Measurement {
  readonly samples: number[];
  readonly error?: string;
}

/** All measurements, keyed by {@linkcode measurementKey}. */
export type Measurements = Record<string, Measurement>;

/** The key of a measurement: runtime / backend / scenario / implementation. */
export function measurementKey(runtime: string, backend: string, scenario: string, impl: string): string {
  return `${runtime}/${backend}/${scenario}/${impl}`;
}

/** A target: the ratio to the baseline must be at least (`>=`) or at most (`<=`) `ratio`. */
export interface Target {
  readonly op: ">=" | "<=";
  readonly ratio: number;
}

/** One line of the table: procpool's median, the baseline's, their ratio, and the verdict. */
export interface Row {
  readonly group: string;
  readonly measure: string;
  readonly unit: string;
  readonly value: number | undefined;
  readonly spread: number | undefined;
  readonly baselineName: string;
  readonly baseline: number | undefined;
  /** value ÷ baseline. */
  readonly ratio: number | undefined;
  readonly target: Target | undefined;
  readonly status: "PASS" | "MISS" | "info" | "FAILED";
  readonly errors: string[];
}

interface Side {
  readonly value: number | undefined;
  readonly spread: number | undefined;
  readonly error: string | undefined;
}

function side(measurements: Measurements, key: string): Side {
  const m = measurements[key];
  if (m === undefined) return { value: undefined, spread: undefined, error: `${key}: not run` };
  if (m.error !== undefined || m.samples.length === 0) {
    return { value: undefined, spread: undefined, error: `${key}: ${m.error ?? "no samples"}` };
  }
  return { value: median(m.samples), spread: spread(m.samples), error: undefined };
}

function row(
  group: string,
  measure: string,
  unit: string,
  ours: Side,
  baselineName: string,
  theirs: Side,
  target?: Target,
): Row {
  const ratio = ours.value !== undefined && theirs.value !== undefined ? ours.value / theirs.value : undefined;
  const errors = [ours.error, theirs.error].filter((e): e is string => e !== undefined);
  let status: Row["status"];
  if (ratio === undefined) status = "FAILED";
  else if (target === undefined) status = "info";
  else status = (target.op === ">=" ? ratio >= target.ratio : ratio <= target.ratio) ? "PASS" : "MISS";
  return {
    group,
    measure,
    unit,
    value: ours.value,
    spread: ours.spread,
    baselineName,
    baseline: theirs.value,
    ratio,
    target,
    status,
    errors,
  };
}

/** The runtimes and backends the benchmark covers, in table order. */
export const RUNTIMES = ["node", "deno", "bun"] as const;
/** procpool's backends. */
export const BACKENDS = ["process", "worker"] as const;
/** The backend name of the NATS rows: workers on a procpool agent, through a local nats-server. */
export const NATS_BACKEND = "nats";
/** The peers measured on Node worker threads. */
export const PEERS = ["piscina", "tinypool", "workerpool"] as const;

const MAP_TARGET_ITEMS_PER_S = 5_000_000;

/** The values of the big-values scenario (bench/scenarios/values.ts), with their names in the table. */
export const VALUE_CASES = ["f64in", "f64echo", "u8in64", "rows", "str1m"] as const;
const VALUE_NAMES: Record<(typeof VALUE_CASES)[number], string> = {
  f64in: "8 MB Float64Array in",
  f64echo: "8 MB Float64Array echo",
  u8in64: "64 MiB Uint8Array in",
  rows: "100k rows in",
  str1m: "1 MB string in",
};
const VALUE_MIB = 8;

/** Builds every row of the report from the measurements, with the targets. */
export function buildRows(measurements: Measurements): Row[] {
  const rows: Row[] = [];
  const fixed = (value: number): Side => ({ value, spread: undefined, error: undefined });
  const cpythonSubmit = side(measurements, measurementKey("python", "process", "submit", "cpython"));
  const cpythonMap = side(measurements, measurementKey("python", "process", "map1000", "cpython"));
  for (const runtime of RUNTIMES) {
    for (const backend of BACKENDS) {
      const group = `${runtime} ${backend}`;
      const get = (scenario: string, impl: string) =>
        side(measurements, measurementKey(runtime, backend, scenario, impl));
      const submit = get("submit", "procpool");
      const rawSubmit = get("submit", "raw");
      rows.push(row(group, "submit 20k", "tasks/s", submit, "raw", rawSubmit, { op: ">=", ratio: 1 }));
      rows.push(row(group, "submit, await futures", "tasks/s", get("submit", "procpool-then"), "raw", rawSubmit));
      rows.push(row(group, "submit 20k", "tasks/s", submit, "CPython", cpythonSubmit));
      if (runtime === "node" && backend === "worker") {
        for (const peer of PEERS) {
          const target: Target | undefined = peer === "piscina" ? { op: ">=", ratio: 5 } : undefined;
          rows.push(row(group, "submit 20k", "tasks/s", submit, peer, get("submit", peer), target));
        }
      }
      rows.push(row(group, "map c=1", "items/s", get("map1", "procpool"), "raw submit", rawSubmit));
      const map1000 = get("map1000", "procpool");
      rows.push(row(group, "map c=1000", "items/s", map1000, "CPython", cpythonMap, { op: ">=", ratio: 1 }));
      if (runtime === "node" && backend === "worker") {
        rows.push(
          row(group, "map c=1000", "items/s", map1000, "5M/s goal", fixed(MAP_TARGET_ITEMS_PER_S), {
            op: ">=",
            ratio: 1,
          }),
        );
      }
      rows.push(
        row(group, "latency p50", "µs/op", get("latency", "procpool"), "raw", get("latency", "raw"), {
          op: "<=",
          ratio: 1.3,
        }),
      );
      rows.push(row(group, "latency mean", "µs/op", get("latencyMean", "procpool"), "raw", get("latencyMean", "raw")));
      for (const [scenario, measure] of [["mixedSteps", "mixed 50/1 ms"], ["mixedTail", "mixed heavy tail"]]) {
        rows.push(
          row(group, measure, "ms", get(scenario, "procpool"), "ideal", get(scenario, "ideal"), {
            op: "<=",
            ratio: 1.1,
          }),
        );
      }
      rows.push(
        row(group, "start→1st result", "ms", get("startup", "procpool"), "bare", get("startup", "raw"), {
          op: "<=",
          ratio: 1.3,
        }),
      );
      rows.push(
        row(group, "memory/worker", "MiB", get("memory", "procpool"), "bare", get("memory", "raw"), {
          op: "<=",
          ratio: 1.2,
        }),
      );
      rows.push(
        row(group, "parent heap growth", "MiB", get("parentHeap", "procpool"), "bare", get("parentHeap", "raw")),
      );
      for (const value of VALUE_CASES) {
        rows.push(row(group, VALUE_NAMES[value], "calls/s", get(value, "procpool"), "raw", get(value, "raw"), {
          op: ">=",
          ratio: 0.8,
        }));
      }
      if (backend === "worker") {
        rows.push(
          row(group, "8 MB transfer() in", "calls/s", get("f64transfer", "procpool"), "raw copy", get("f64in", "raw"), {
            op: ">=",
            ratio: 5,
          }),
        );
      }
      rows.push(
        row(group, "peak RSS above idle, 8 MB echo", "MiB", get("valueRss", "procpool"), "value", fixed(VALUE_MIB), {
          op: "<=",
          ratio: 3,
        }),
      );
    }
    rows.push(...natsRows(measurements, runtime, cpythonMap));
  }
  return rows;
}

// The NATS rows of one runtime (bench/scenarios/nats.ts): submit and latency against raw NATS request/reply with
// the same client and server; map against CPython's local pool, for information.
function natsRows(measurements: Measurements, runtime: string, cpythonMap: Side): Row[] {
  const group = `${runtime} ${NATS_BACKEND}`;
  const get = (scenario: string, impl: string) =>
    side(measurements, measurementKey(runtime, NATS_BACKEND, scenario, impl));
  return [
    row(group, "submit 20k", "tasks/s", get("submit", "procpool"), "raw NATS", get("submit", "raw"), {
      op: ">=",
      ratio: 1,
    }),
    row(group, "latency p50", "µs/op", get("latency", "procpool"), "raw NATS", get("latency", "raw"), {
      op: "<=",
      ratio: 1.3,
    }),
    row(group, "map c=1000", "items/s", get("map1000", "procpool"), "CPython", cpythonMap),
  ];
}

/** Formats a value in its unit, compactly: 193.4k tasks/s, 2.45M items/s, 24.1 µs/op, 455 ms, 88.4 MiB. */
export function formatValue(value: number | undefined, unit: string): string {
  if (value === undefined || !Number.isFinite(value)) return "—";
  if (unit.endsWith("/s")) {
    const text = value >= 1e6
      ? `${(value / 1e6).toFixed(2)}M`
      : value >= 1e3
      ? `${(value / 1e3).toFixed(1)}k`
      : value.toFixed(0);
    return `${text} ${unit}`;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${unit}`;
}

function formatTarget(target: Target | undefined): string {
  return target === undefined ? "—" : `${target.op === ">=" ? "≥" : "≤"} ${target.ratio.toFixed(1)}×`;
}

/** The text table: one row per line, aligned; failures' reasons below it. */
export function formatTable(rows: readonly Row[]): string {
  const header = ["runtime backend", "measure", "procpool", "range", "vs", "baseline", "ratio", "target", "result"];
  const lines = rows.map((r) => [
    r.group,
    r.measure,
    formatValue(r.value, r.unit),
    r.spread === undefined ? "" : `±${((r.spread * 100) / 2).toFixed(0)}%`,
    r.baselineName,
    formatValue(r.baseline, r.unit),
    r.ratio === undefined ? "—" : `${r.ratio.toFixed(2)}×`,
    formatTarget(r.target),
    r.status,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const right = new Set([2, 3, 5, 6]);
  const format = (cells: string[]) =>
    cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  const out = [format(header), widths.map((w) => "-".repeat(w)).join("  ")];
  let previous = "";
  for (let i = 0; i < rows.length; i++) {
    if (rows[i].group !== previous && previous !== "") out.push("");
    previous = rows[i].group;
    out.push(format(lines[i]));
  }
  const errors = [...new Set(rows.flatMap((r) => r.errors))];
  if (errors.length > 0) out.push("", "Failures:", ...errors.map((e) => `  ${e}`));
  return out.join("\n");
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const COLORS = { PASS: "#2e7d32", MISS: "#c62828", info: "#78909c", FAILED: "#bdbdbd" } as const;

/**
 * The SVG chart, written by hand: one panel per measure and baseline, one horizontal bar per runtime/backend,
 * its length the ratio to the baseline, a solid line at 1× and a dashed line at the target; green PASS, red
 * MISS, grey for rows without a target.
 */
export function renderChart(rows: readonly Row[], title: string): string {
  const panels = new Map<string, Row[]>();
  for (const r of rows) {
    const name = `${r.measure} ÷ ${r.baselineName}`;
    const list = panels.get(name) ?? [];
    list.push(r);
    panels.set(name, list);
  }
  const width = 860;
  const labelWidth = 130;
  const barWidth = 560;
  const barHeight = 16;
  const gap = 4;
  const out: string[] = [];
  let y = 66;
  out.push(`<text x="16" y="28" font-size="17" font-weight="bold">${escapeXml(title)}</text>`);
  out.push(
    `<text x="16" y="48" font-size="11" fill="#555">bar = procpool ÷ baseline; solid line 1×, dashed line the target; ` +
      `green PASS, red MISS, grey no target</text>`,
  );
  for (const [name, list] of panels) {
    const target = list.find((r) => r.target !== undefined)?.target;
    const lowerIsBetter = target?.op === "<=";
    const hint = target === undefined
      ? "(no target)"
      : `${lowerIsBetter ? "lower is better" : "higher is better"}; target ${formatTarget(target)}`;
    out.push(`<text x="16" y="${y + 14}" font-size="13" font-weight="bold">${escapeXml(name)}</text>`);
    out.push(
      `<text x="${labelWidth + barWidth}" y="${y + 14}" font-size="11" fill="#555" text-anchor="end">${
        escapeXml(hint)
      }</text>`,
    );
    y += 22;
    const finite = list.map((r) => r.ratio ?? 0);
    const max = Math.max(1, target?.ratio ?? 1, ...finite) * 1.08;
    const scale = barWidth / max;
    const top = y;
    for (const r of list) {
      const length = Math.max(0, (r.ratio ?? 0) * scale);
      out.push(
        `<text x="${labelWidth - 8}" y="${y + 12}" font-size="12" text-anchor="end">${escapeXml(r.group)}</text>`,
      );
      out.push(
        `<rect x="${labelWidth}" y="${y}" width="${length.toFixed(1)}" height="${barHeight}" fill="${
          COLORS[r.status]
        }"/>`,
      );
      const label = r.ratio === undefined ? "failed" : `${r.ratio.toFixed(2)}×  ${r.status === "info" ? "" : r.status}`;
      out.push(
        `<text x="${(labelWidth + length + 6).toFixed(1)}" y="${y + 12}" font-size="11">${
          escapeXml(label.trim())
        }</text>`,
      );
      y += barHeight + gap;
    }
    const one = labelWidth + scale;
    out.push(
      `<line x1="${one.toFixed(1)}" y1="${top - 2}" x2="${one.toFixed(1)}" y2="${y}" stroke="#000" stroke-width="1"/>`,
    );
    if (target !== undefined && target.ratio !== 1) {
      const t = labelWidth + target.ratio * scale;
      out.push(
        `<line x1="${t.toFixed(1)}" y1="${top - 2}" x2="${
          t.toFixed(1)
        }" y2="${y}" stroke="#000" stroke-dasharray="4 3"/>`,
      );
    }
    y += 16;
  }
  const height = y + 8;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...out,
    `</svg>`,
    "",
  ].join("\n");
}
