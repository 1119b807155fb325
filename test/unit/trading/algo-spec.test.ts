import { ExecutionAlreadyExists, type SFNClient } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main';
import { algoSpecSchema, planChildren } from '../../../src/trading/algos';
import { SfnChildScheduler } from '../../../src/trading/child-scheduler';
import { scheduleNameOf } from '../../../src/trading/execution';

const T0 = Date.UTC(2026, 10, 20, 14, 30);

describe('algo specs', () => {
  it('plans TWAP, VWAP and POV children from a spec', () => {
    const twap = planChildren(10, algoSpecSchema.parse({ algo: 'twap', durationSec: 60, slices: 3 }), T0);
    expect(twap).toEqual({
      children: [
        { time: T0, qty: 4 },
        { time: T0 + 20_000, qty: 3 },
        { time: T0 + 40_000, qty: 3 },
      ],
      remaining: 0,
    });
    const vwap = planChildren(
      10,
      algoSpecSchema.parse({ algo: 'vwap', durationSec: 40, volumeCurve: [1, 0, 1, 3] }),
      T0,
    );
    expect(vwap.children).toEqual([
      { time: T0, qty: 2 },
      { time: T0 + 20_000, qty: 2 },
      { time: T0 + 30_000, qty: 6 },
    ]);
    const pov = planChildren(
      10,
      algoSpecSchema.parse({ algo: 'pov', durationSec: 20, participationRate: 0.5, volumes: [4, 4] }),
      T0,
    );
    expect(pov).toEqual({
      children: [
        { time: T0, qty: 2 },
        { time: T0 + 10_000, qty: 2 },
      ],
      remaining: 6,
    });
  });

  it('rejects unknown fields and out-of-range values', () => {
    const issues = (v: unknown) => {
      const r = algoSpecSchema.safeParse(v);
      return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
    };
    expect(issues({ algo: 'twap', durationSec: 60, slices: 501 })).toEqual(['slices']);
    expect(issues({ algo: 'twap', durationSec: 0.5, slices: 2 })).toEqual(['durationSec']);
    expect(issues({ algo: 'twap', durationSec: 60, slices: 2, rate: 1 })).toEqual(['']);
    expect(issues({ algo: 'vwap', durationSec: 60, volumeCurve: [0, 0] })).toEqual(['volumeCurve']);
    expect(issues({ algo: 'vwap', durationSec: 60, volumeCurve: [1, -1] })).toEqual(['volumeCurve.1']);
    expect(issues({ algo: 'pov', durationSec: 60, participationRate: 1.5, volumes: [1] })).toEqual([
      'participationRate',
    ]);
  });
});

describe('quant paper --algo', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a bad spec exits 2 naming the field, before anything runs', async () => {
    let err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
    const code = await main([
      'node',
      'quant',
      'paper',
      '--strategy',
      'sma-cross',
      '--bars',
      'lake:NONE',
      '--algo',
      '{"algo": "twap", "durationSec": 3600, "slices": 0}',
    ]);
    expect(code).toBe(2);
    expect(err).toMatch(/--algo: slices: must be a whole number from 1 to 500/);
  });
});

describe('SfnChildScheduler (Step Functions cannot run here: a recording client stands in)', () => {
  it('starts one execution per parent under a stable name; a second start is ignored, other errors are not', async () => {
    const sent: Array<{ name?: string; stateMachineArn?: string; input?: string }> = [];
    let fail: Error | undefined;
    const client = {
      send: async (cmd: { input: { name?: string; stateMachineArn?: string; input?: string } }) => {
        sent.push(cmd.input);
        if (fail) throw fail;
        return {};
      },
    } as unknown as SFNClient;
    const s = new SfnChildScheduler(client, 'arn:aws:states:us-east-1:1:stateMachine:algo');
    const plan = { parentId: 'sig-1:AAPL', children: [] };
    await s.start(plan);
    fail = new ExecutionAlreadyExists({ message: 'exists', $metadata: {} });
    await s.start(plan);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toEqual({
      stateMachineArn: 'arn:aws:states:us-east-1:1:stateMachine:algo',
      name: scheduleNameOf('sig-1:AAPL'),
      input: JSON.stringify(plan),
    });
    expect(sent[1].name).toBe(sent[0].name);
    expect(sent[0].name).toMatch(/^algo-[0-9a-f]{40}$/);
    expect(scheduleNameOf('sig-2:AAPL')).not.toBe(sent[0].name);
    fail = new Error('throttled');
    await expect(s.start(plan)).rejects.toThrow('throttled');
  });
});
