/**
 * The SIPp bench's chart as one self-contained SVG, written by hand (no dependency): left,
 * completed against offered calls/s (the diagonal is "everything offered completed"); right,
 * INVITE->200 p50 (solid) and p99 (dashed) per offered rate on a log scale. One colour per target.
 */

export interface ChartPoint { offered: number; cps: number; p50: number; p99: number; clean: boolean }
export interface ChartSeries { name: string; steps: ChartPoint[] }

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const W = 480;
const H = 340;
const M = { l: 60, r: 16, t: 30, b: 46 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Round-number ticks from 0 to at least `max`. */
function ticks(max: number): number[] {
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? mag * 10;
  const out: number[] = [];
  for (let v = 0; v <= max + step / 2; v += step) out.push(v);
  return out;
}

interface Panel { x0: number; title: string; xLabel: string; yLabel: string }

function frame(p: Panel, xt: number[], yt: { v: number; label: string }[], sx: (v: number) => number, sy: (v: number) => number): string {
  const parts: string[] = [`<g transform="translate(${p.x0},0)">`];
  parts.push(`<text x="${M.l + (W - M.l - M.r) / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`);
  for (const v of xt) {
    parts.push(`<line x1="${sx(v)}" x2="${sx(v)}" y1="${M.t}" y2="${H - M.b}" stroke="#eee"/>`);
    parts.push(`<text x="${sx(v)}" y="${H - M.b + 16}" text-anchor="middle">${v}</text>`);
  }
  for (const { v, label } of yt) {
    parts.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${sy(v)}" y2="${sy(v)}" stroke="#eee"/>`);
    parts.push(`<text x="${M.l - 6}" y="${sy(v) + 4}" text-anchor="end">${label}</text>`);
  }
  parts.push(`<rect x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${M.l + (W - M.l - M.r) / 2}" y="${H - 8}" text-anchor="middle">${esc(p.xLabel)}</text>`);
  parts.push(`<text transform="translate(14,${M.t + (H - M.t - M.b) / 2}) rotate(-90)" text-anchor="middle">${esc(p.yLabel)}</text>`);
  return parts.join('\n');
}

function polyline(points: [number, number][], colour: string, dashed = false): string {
  if (!points.length) return '';
  const d = points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  return `<polyline points="${d}" fill="none" stroke="${colour}" stroke-width="2"${dashed ? ' stroke-dasharray="6,4"' : ''}/>`;
}

/** Markers: filled for a clean step, hollow for one that was not. */
function markers(points: [number, number, boolean][], colour: string): string {
  return points.map(([x, y, clean]) => `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3.5" stroke="${colour}" fill="${clean ? colour : 'white'}"/>`).join('\n');
}

export function renderChart(series: ChartSeries[], subtitle: string): string {
  const steps = series.flatMap((s) => s.steps);
  const maxRate = Math.max(100, ...steps.map((s) => Math.max(s.offered, s.cps)));
  const rt = ticks(maxRate);
  const rMax = rt.at(-1)!;
  const sx = (v: number): number => M.l + (v / rMax) * (W - M.l - M.r);
  const sy = (v: number): number => H - M.b - (v / rMax) * (H - M.t - M.b);
  // Latency: log scale from 1 ms (SIPp's resolution; 0 ms is drawn at 1) to a power of ten above the worst p99.
  const worst = Math.max(10, ...steps.map((s) => (Number.isFinite(s.p99) ? s.p99 : 0)));
  const decades = Math.ceil(Math.log10(worst));
  const ly = (ms: number): number => H - M.b - (Math.log10(Math.max(1, ms)) / decades) * (H - M.t - M.b);
  const lt = Array.from({ length: decades + 1 }, (_, i) => ({ v: 10 ** i, label: String(10 ** i) }));

  const left = { x0: 0, title: 'completed vs offered calls/s', xLabel: 'offered calls/s', yLabel: 'completed calls/s' };
  const right = { x0: W, title: 'INVITE->200: p50 solid, p99 dashed (ms, log)', xLabel: 'offered calls/s', yLabel: 'ms' };
  const body: string[] = [];
  body.push(frame(left, rt, rt.map((v) => ({ v, label: String(v) })), sx, sy));
  body.push(`<line x1="${sx(0)}" y1="${sy(0)}" x2="${sx(rMax)}" y2="${sy(rMax)}" stroke="#bbb" stroke-dasharray="2,3"/>`);
  series.forEach((s, i) => {
    const c = COLOURS[i % COLOURS.length]!;
    body.push(polyline(s.steps.map((p) => [sx(p.offered), sy(p.cps)]), c));
    body.push(markers(s.steps.map((p) => [sx(p.offered), sy(p.cps), p.clean]), c));
  });
  body.push('</g>');
  body.push(frame(right, rt, lt, sx, ly));
  series.forEach((s, i) => {
    const c = COLOURS[i % COLOURS.length]!;
    const ok = s.steps.filter((p) => Number.isFinite(p.p50));
    body.push(polyline(ok.map((p) => [sx(p.offered), ly(p.p50)]), c));
    body.push(polyline(ok.map((p) => [sx(p.offered), ly(p.p99)]), c, true));
    body.push(markers(ok.map((p) => [sx(p.offered), ly(p.p99), p.clean]), c));
  });
  body.push('</g>');
  const legendY = H + 8;
  series.forEach((s, i) => {
    const c = COLOURS[i % COLOURS.length]!;
    const y = legendY + i * 18;
    body.push(`<line x1="${M.l}" x2="${M.l + 24}" y1="${y}" y2="${y}" stroke="${c}" stroke-width="3"/><text x="${M.l + 30}" y="${y + 4}">${esc(s.name)}</text>`);
  });
  const total = legendY + series.length * 18 + 24;
  body.push(`<text x="${M.l}" y="${total - 8}" fill="#555">${esc(subtitle)}; filled marker: clean step, hollow: failed calls, unexpected messages or completed &lt; 95% of offered</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${total}" viewBox="0 0 ${2 * W} ${total}" font-family="sans-serif" font-size="12">`,
    '<rect width="100%" height="100%" fill="white"/>',
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
