/**
 * Summarises V8 heap snapshots (from bench/soak.ts --heap-snapshots) without DevTools: self size
 * and count per node type and constructor name, and with two snapshots the difference, largest
 * growth first. Streams nothing: a snapshot of a few hundred MB parses in a few seconds.
 *
 *   node dist/bench/soak-heap.js first.heapsnapshot [second.heapsnapshot] [--top 30]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

type Summary = Map<string, { size: number; count: number }>;

export function summarise(file: string): Summary {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const width = f.length;
  const iType = f.indexOf('type');
  const iName = f.indexOf('name');
  const iSize = f.indexOf('self_size');
  const types = s.snapshot.meta.node_types[0];
  const iEdges = f.indexOf('edge_count');
  const ef = s.snapshot.meta.edge_fields;
  const eWidth = ef.length;
  const eType = ef.indexOf('type');
  const eName = ef.indexOf('name_or_index');
  const edgeTypes = s.snapshot.meta.edge_types[0];
  const out: Summary = new Map();
  let edge = 0;
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType]!]!;
    let name = s.strings[s.nodes[i + iName]!]!;
    const edges = s.nodes[i + iEdges]!;
    // Plain objects are told apart by their property names ({name,lname,value,...} is a header field).
    if (type === 'object' && name === 'Object') {
      const props: string[] = [];
      for (let e = edge; e < edge + edges * eWidth && props.length < 8; e += eWidth) {
        if (edgeTypes[s.edges[e + eType]!] === 'property') props.push(s.strings[s.edges[e + eName]!]!);
      }
      name = `Object{${props.join(',')}}`;
    }
    edge += edges * eWidth;
    // Strings and code are named by their content: group them by type only.
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'code' || type === 'number') name = '';
    if (type === 'closure') name = '';
    const key = `${type}${name ? `:${name.slice(0, 90)}` : ''}`;
    const e = out.get(key) ?? { size: 0, count: 0 };
    e.size += s.nodes[i + iSize]!;
    e.count++;
    out.set(key, e);
  }
  return out;
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
  const top = Number(values.top);
  const [a, b] = positionals;
  if (!a) throw new Error('usage: soak-heap.js first.heapsnapshot [second.heapsnapshot]');
  const first = summarise(a);
  const total = (s: Summary): number => [...s.values()].reduce((x, e) => x + e.size, 0);
  const kb = (n: number): string => `${(n / 1024).toFixed(0)} KiB`;
  if (!b) {
    console.log(`${a}: ${kb(total(first))} in ${[...first.values()].reduce((x, e) => x + e.count, 0)} objects`);
    for (const [k, e] of [...first].sort((x, y) => y[1].size - x[1].size).slice(0, top)) console.log(`  ${kb(e.size).padStart(12)}  ${String(e.count).padStart(9)}  ${k}`);
    return;
  }
  const second = summarise(b);
  console.log(`${a}: ${kb(total(first))}; ${b}: ${kb(total(second))}`);
  const keys = new Set([...first.keys(), ...second.keys()]);
  const rows = [...keys].map((k) => {
    const x = first.get(k) ?? { size: 0, count: 0 };
    const y = second.get(k) ?? { size: 0, count: 0 };
    return { k, d: y.size - x.size, dc: y.count - x.count, y };
  });
  console.log('largest in the second snapshot (size, count, change from the first):');
  for (const r of [...rows].sort((p, q) => q.y.size - p.y.size).slice(0, top)) {
    console.log(`  ${kb(r.y.size).padStart(12)}  ${String(r.y.count).padStart(9)}  ${(r.d >= 0 ? '+' : '') + kb(r.d)}  ${r.k}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
