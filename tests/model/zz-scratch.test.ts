import { lt112, strangle, zeroDte } from '../../machines/variants';
import { buildModel, dateAfter, everyEdgePaths, shortestPathsToEveryVertex, vertices, replay, MINUTE } from './graphModel';
const DEFAULT_STUCK = { PENDING_ENTRY: 5 * MINUTE, ENTERING: 5 * MINUTE, PENDING_EXIT: 10 * MINUTE, EXITING: 10 * MINUTE, PARTIAL_EXIT: 10 * MINUTE };
test('stats', () => {
  for (const v of [{ name: 'strangle', definition: strangle, entryExpiry: dateAfter(60), nearExpiry: dateAfter(14), stuckMs: DEFAULT_STUCK, recoveryMs: 30 * MINUTE }]) {
    let t = Date.now();
    const m = buildModel(v);
    const build = Date.now() - t;
    const vs = vertices(m);
    const edges = everyEdgePaths(m);
    t = Date.now();
    for (const p of edges.slice(0, 500)) replay(m, p);
    const per = (Date.now() - t) / 500;
    const byRec: Record<string, number> = {};
    for (const k of vs) byRec[k.split(' ').slice(-1)[0]] = (byRec[k.split(' ').slice(-1)[0]] ?? 0) + 1;
    const lens = edges.map((p) => p.steps.length);
    console.log({ build, vertices: vs.length, edges: edges.length, per, byRec, maxLen: Math.max(...lens), avgLen: lens.reduce((a, b) => a + b) / lens.length });
  }
});
