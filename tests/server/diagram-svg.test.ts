import { createMachine } from 'xstate';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { diagramEdges, diagramSummaries } from '../../machines/diagram';
import { STRATEGY_STATES } from '../../machines/states';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { diagramSvg } from '../../server/diagramSvg';

const variants = { zeroDte, lt112, strangle };

/** The opening tags of every `<g>` with a data-state, with their class list. */
function stateGroups(svg: string): Array<{ state: string; classes: string[] }> {
  return [...svg.matchAll(/<g class="([^"]*)" data-state="([^"]*)">/g)].map((m) => ({ state: m[2], classes: m[1].split(' ') }));
}

/** The markup of the `<g>` element that opens at `start`, up to its matching `</g>`. */
function element(svg: string, start: number): string {
  const tags = /<g[\s>]|<\/g>/g;
  tags.lastIndex = start;
  let depth = 0;
  for (let m = tags.exec(svg); m; m = tags.exec(svg)) {
    depth += m[0] === '</g>' ? -1 : 1;
    if (depth === 0) return svg.slice(start, m.index + 4);
  }
  throw new Error('unbalanced <g>');
}

function rectOf(group: string): { x: number; y: number; w: number; h: number } {
  const m = /<rect class="sl-box" x="([\d.-]+)" y="([\d.-]+)" width="([\d.]+)" height="([\d.]+)"/.exec(group)!;
  return { x: Number(m[1]), y: Number(m[2]), w: Number(m[3]), h: Number(m[4]) };
}

/** Text content outside tags must hold no markup characters; entities must be well-formed. */
function expectWellEscaped(svg: string): void {
  const text = svg
    .replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '')
    .replace(/<style>[\s\S]*?<\/style>/, '')
    .replace(/<[^<>]+>/g, '');
  expect(text).not.toMatch(/[<>]/);
  expect(text.replace(/&(amp|lt|gt|quot|#39);/g, '')).not.toContain('&');
}

describe('diagramSvg', () => {
  describe.each(Object.entries(variants))('%s', (_name, definition) => {
    const machine = createStrategyMachine(definition);
    let svg = '';
    beforeAll(async () => {
      svg = await diagramSvg(machine);
    });

    it('is one SVG document with a title', () => {
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      expect(svg).toContain(`<title id="sl-title">${definition.id}`);
      expectWellEscaped(svg);
    });

    it('draws each of the 15 states once, as a group with data-state and its family class', () => {
      const groups = stateGroups(svg);
      for (const state of STRATEGY_STATES) {
        const mine = groups.filter((g) => g.state === state);
        expect(mine).toHaveLength(1);
        expect(mine[0].classes).toEqual(expect.arrayContaining(['sl-state', expect.stringMatching(/^sl-fam-/)]));
      }
    });

    it('draws one arrow per (from, to) pair of diagramEdges, labelled with its events and guards', () => {
      const edges = diagramEdges(machine);
      const pairs = new Set(edges.map((e) => `${e.from} ${e.to}`));
      const drawn = [...svg.matchAll(/<g class="sl-edge [^"]*" data-from="([^"]*)" data-to="([^"]*)">/g)].map((m) => `${m[1]} ${m[2]}`);
      expect(new Set(drawn)).toEqual(pairs);
      expect(drawn).toHaveLength(pairs.size);
      for (const edge of edges) {
        const label = new RegExp(`<g class="sl-edge-label[^"]*" data-from="${edge.from}" data-to="${edge.to}">([\\s\\S]*?)</g>`)
          .exec(svg)![1]
          .replace(/<[^>]+>/g, '');
        for (const event of edge.events) for (const word of event.split(' ')) expect(label).toContain(word);
        if (edge.guard) for (const word of `[${edge.guard}]`.split(' ')) expect(label).toContain(word);
      }
    });

    it('summarises MANUAL_OVERRIDE, SYSTEM_ERROR and failed hooks as notes instead of arrows', () => {
      const notes = svg.slice(svg.indexOf('<g class="sl-notes">'));
      for (const summary of diagramSummaries(machine)) expect(notes).toContain(summary.event);
      expect(notes).toContain('MANUAL_OVERRIDE');
      expect(notes).toContain('SYSTEM_ERROR');
      expect(svg.match(/class="sl-edge /g)!.length).toBeLessThan(60);
    });

    it('is deterministic', async () => {
      expect(await diagramSvg(machine)).toBe(svg);
      expect(await diagramSvg(createStrategyMachine(definition))).toBe(svg);
      expect(await diagramSvg(machine, 'MANAGING')).toBe(await diagramSvg(createStrategyMachine(definition), 'MANAGING'));
    });
  });

  it('puts the class current on the highlighted state only', async () => {
    const machine = createStrategyMachine(lt112);
    expect(stateGroups(await diagramSvg(machine)).filter((g) => g.classes.includes('current'))).toEqual([]);
    for (const state of ['MANAGING', 'ERROR', 'INITIALIZING']) {
      const current = stateGroups(await diagramSvg(machine, state)).filter((g) => g.classes.includes('current'));
      expect(current.map((g) => g.state)).toEqual([state]);
    }
    expect(stateGroups(await diagramSvg(machine, 'NOT_A_STATE')).filter((g) => g.classes.includes('current'))).toEqual([]);
  });

  it("draws strangle's substates inside ADJUSTING, in the markup and on the canvas", async () => {
    const svg = await diagramSvg(createStrategyMachine(strangle), 'ADJUSTING');
    const start = svg.indexOf('<g class="sl-state sl-fam-position sl-compound current" data-state="ADJUSTING">');
    expect(start).toBeGreaterThan(0);
    const adjusting = element(svg, start);
    const parent = rectOf(adjusting);
    for (const sub of ['ROLLING', 'AWAITING_FILL']) {
      const at = adjusting.indexOf(`data-state="ADJUSTING.${sub}"`);
      expect(at).toBeGreaterThan(0);
      const child = rectOf(element(adjusting, adjusting.lastIndexOf('<g', at)));
      expect(child.x).toBeGreaterThan(parent.x);
      expect(child.y).toBeGreaterThan(parent.y);
      expect(child.x + child.w).toBeLessThan(parent.x + parent.w);
      expect(child.y + child.h).toBeLessThan(parent.y + parent.h);
    }
    expect(svg.match(/data-state="ADJUSTING\.ROLLING"/g)).toHaveLength(1);
    // The substate arrow is drawn between the substates, labelled with its event.
    expect(svg).toMatch(
      /data-from="ADJUSTING\.ROLLING" data-to="ADJUSTING\.AWAITING_FILL"><rect[^>]*\/><text[^>]*>ORDER_SUBMITTED<\/text>/,
    );
    // A substate path can be highlighted too.
    const sub = stateGroups(await diagramSvg(createStrategyMachine(strangle), 'ADJUSTING.ROLLING')).filter((g) =>
      g.classes.includes('current'),
    );
    expect(sub.map((g) => g.state)).toEqual(['ADJUSTING.ROLLING']);
  });

  it('escapes every text it takes from the machine', async () => {
    const hostile = createStrategyMachine({ ...lt112, id: 'hostile', name: 'Weekly <script>alert("x")</script> & \'co\'' });
    const svg = await diagramSvg(hostile, '"><script>');
    expect(svg).toContain('Weekly &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;');
    expect(svg).not.toContain('<script>');
    expectWellEscaped(svg);

    // A foreign machine: state names and events are the author's, placed after the 15 states.
    const foreign = createMachine({ id: 'foreign', initial: 'a<b>', states: { 'a<b>': { on: { 'GO&"NOW"': 'c' } }, c: {} } });
    const text = await diagramSvg(foreign, 'a<b>');
    expect(text).toContain('data-state="a&lt;b&gt;"');
    expect(text).toContain('GO&amp;&quot;NOW&quot;');
    expect(stateGroups(text).find((g) => g.state === 'a&lt;b&gt;')!.classes).toContain('current');
    expectWellEscaped(text);
  });
});
