import { createStrategyMachine } from '../../machines/createStrategyMachine';
import type { StrategyDefinition } from '../../machines/definition';
import { diagramEdges, diagramSummaries, edgeTableMarkdown, toMermaid } from '../../machines/diagram';
import { createStrategyMachine as machineOf } from '../../machines/createStrategyMachine';
import { machineEdgeRows } from '../../machines/diagram';
import { lt112 as lt112Def } from '../../machines/variants';
import { STRATEGY_STATES } from '../../machines/states';
import { lt112, strangle, zeroDte } from '../../machines/variants';

const base: StrategyDefinition = { id: 'base', name: 'Base lifecycle' };
const mermaid = (def: StrategyDefinition) => toMermaid(createStrategyMachine(def));
const lines = (text: string) => text.split('\n').map((l) => l.trim());

describe('toMermaid', () => {
  const text = mermaid(base);

  it('is a stateDiagram-v2 starting at INITIALIZING', () => {
    expect(text.startsWith('stateDiagram-v2\n    [*] --> INITIALIZING\n')).toBe(true);
  });

  it.each(STRATEGY_STATES)('draws %s', (state) => {
    expect(text).toMatch(new RegExp(`(^|\\s)${state}( -->|: |\\n)`, 'm'));
  });

  it.each([
    'INITIALIZING --> READY: MARKET_OPEN',
    'MANAGING --> PENDING_EXIT: DEFENSIVE_EXIT_DTE [isDteAtOrBelowDefensive]',
    'MANAGING --> PENDING_EXIT: CORRELATION_LIMIT, RISK_LIMIT_EXCEEDED, VIX_SPIKE [else]',
    'ENTERING --> POSITION_OPEN: ORDER_REJECTED [hasOpenPosition]',
    'EXITING --> CLOSED: ORDER_FILLED [isExitFillComplete]',
    'ENTERING --> ERROR: after 5 min (stuck deadline)',
    'PARTIAL_EXIT --> ERROR: after 10 min (stuck deadline)',
    'ERROR --> MANAGING: RESET, after 30 min (recovery deadline) [hasOpenPosition]',
    'ERROR --> READY: RESET, after 30 min (recovery deadline) [else]',
  ])('has the arrow %s', (arrow) => {
    expect(lines(text)).toContain(arrow);
  });

  it('merges the events of one (from, to, guard) into one sorted label', () => {
    expect(lines(text)).toContain('ANALYZING --> READY: ENTRY_CONDITIONS_FAILED, MARKET_CLOSE, TIME_WINDOW_END');
    expect(lines(text).filter((l) => l.startsWith('ANALYZING --> READY:'))).toHaveLength(2);
  });

  it('summarises MANUAL_OVERRIDE, SYSTEM_ERROR and failed hooks as notes, not arrows', () => {
    expect(text).not.toMatch(/-->.*(MANUAL_OVERRIDE|SYSTEM_ERROR|lifecycle\.)/);
    expect(text).toContain('note right of ERROR');
    expect(text).toContain('SYSTEM_ERROR from every state but ERROR, TERMINATED');
    expect(text).toContain('lifecycle.hookFailed [isErrorLimitReached] from every state but ERROR, TERMINATED');
    expect(text).toContain('MANUAL_OVERRIDE [isOverrideTargetLegal] from every state but TERMINATED to any state it names');
    const override = diagramSummaries(createStrategyMachine(base)).find((s) => s.event === 'MANUAL_OVERRIDE');
    expect(override?.to).toEqual([...STRATEGY_STATES]);
  });

  it('marks TERMINATED terminal without making it a final state', () => {
    expect(text).toContain('note right of TERMINATED\n        terminal, no transition leaves it\n    end note');
    expect(text).not.toContain('TERMINATED --> [*]');
  });

  it('shows the variant entry guards and durations', () => {
    expect(lines(mermaid(lt112))).toContain('ANALYZING --> PENDING_ENTRY: ENTRY_CONDITIONS_MET [isDteInBand and isVixInRange]');
    expect(lines(mermaid(zeroDte))).toContain('EXITING --> ERROR: after 5 min (stuck deadline)');
    expect(lines(mermaid(zeroDte))).toContain('MANAGING --> PENDING_EXIT: MARGIN_CALL, MARKET_CLOSE, TIME_WINDOW_END');
  });

  it('nests the strangle ADJUSTING substates', () => {
    const s = mermaid(strangle);
    expect(s).toContain(
      ['    state ADJUSTING {', '        [*] --> ROLLING', '        ROLLING --> AWAITING_FILL: ORDER_SUBMITTED', '    }'].join('\n'),
    );
    expect(mermaid(lt112)).not.toContain('state ADJUSTING {');
  });

  it('changes when a variant adds an extra edge', () => {
    const extended: StrategyDefinition = {
      ...lt112,
      id: 'lt112Close',
      extraEdges: [{ from: ['MANAGING'], on: ['MARKET_CLOSE'], to: 'SUSPENDED', why: 'test' }],
    };
    const before = mermaid(lt112);
    const after = mermaid(extended);
    expect(after).not.toBe(before);
    expect(lines(after)).toContain('MANAGING --> SUSPENDED: MARKET_CLOSE');
    expect(lines(before).some((l) => l.startsWith('MANAGING --> SUSPENDED'))).toBe(false);
  });

  it('is deterministic', () => {
    expect(mermaid(strangle)).toBe(mermaid(strangle));
  });

  it('uses only characters Mermaid labels and notes accept', () => {
    // stateDiagram.jison: a label is `:` then [^:\n;]+, a note's text has no `:` or `;`, `#` starts a comment.
    for (const def of [base, zeroDte, lt112, strangle]) {
      const body = lines(mermaid(def)).slice(1);
      expect(body.join('\n')).not.toMatch(/[#;]/);
      for (const line of body) expect(line.replace(/^[\w[\]*]+ --> [\w[\]*]+: /, '')).not.toContain(':');
    }
  });
});

describe('diagramEdges', () => {
  it('skips the catch-all and targetless transitions', () => {
    const edges = diagramEdges(createStrategyMachine(base));
    expect(edges.some((e) => e.events.includes('*'))).toBe(false);
    expect(edges.every((e) => e.to.length > 0)).toBe(true);
    expect(edges).toContainEqual({
      from: 'MANAGING',
      to: 'PENDING_EXIT',
      events: ['DEFENSIVE_EXIT_DTE'],
      guard: 'isDteAtOrBelowDefensive',
    });
  });
});

describe('edgeTableMarkdown', () => {
  const rows = machineEdgeRows(machineOf(lt112Def));
  const table = edgeTableMarkdown(rows, STRATEGY_STATES);

  it('has one line per row, with the MANUAL_OVERRIDE rows collapsed into one', () => {
    const overrideRows = rows.filter((r) => r.on.includes('MANUAL_OVERRIDE')).length;
    expect(overrideRows).toBe(STRATEGY_STATES.length);
    expect(table.trim().split('\n')).toHaveLength(2 + rows.length - overrideRows + 1);
    expect(table).toContain("| MANUAL_OVERRIDE | the event's `target`: every state");
  });

  it('keeps the priority order and the guards', () => {
    expect(table).toContain('| 1 | INITIALIZING | MARKET_OPEN | READY |  |  | market open: ready to trade |');
    expect(table).toContain('| MANAGING | DEFENSIVE_EXIT_DTE | PENDING_EXIT | `isDteAtOrBelowDefensive` |');
    expect(table).toContain('| every state but ERROR, TERMINATED | SYSTEM_ERROR | ERROR |');
  });
});

test("a custom variant's diagram is drawn through the package's root export, its own edges included", async () => {
  const root = await import('../../index');
  const condor: StrategyDefinition = {
    ...root.lt112,
    id: 'condor',
    name: 'Iron condor',
    extraEdges: [{ from: ['MANAGING'], on: ['MARKET_CLOSE'], to: 'PENDING_EXIT', why: 'never hold over the close' }],
  };
  const machine = root.createStrategyMachine(condor);
  expect(root.toMermaid(machine)).toContain('MANAGING --> PENDING_EXIT: MARGIN_CALL, MARKET_CLOSE');
  expect(root.diagramEdges(machine)).toContainEqual({ from: 'MANAGING', to: 'PENDING_EXIT', events: ['MARGIN_CALL', 'MARKET_CLOSE'] });
});
