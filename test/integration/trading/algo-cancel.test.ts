/**
 * Cancelling a running algorithm parent: `quant algo cancel` against the local cloud (dynalite),
 * children in flight (simulated clock, and the synthesized state machine under
 * aws-local-stepfunctions) rejected with rule parentCancelled; StopExecution of the parent's
 * execution in AWS (a recording client: Step Functions cannot run here).
 */
import { ExecutionDoesNotExist, type SFNClient } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { dev } from '../../../lib/config';
import {
  resolveDefinitionString,
  runLocalStateMachine,
  walkStates,
  type Json,
} from '../../../src/local/stepfunctions';
import { SimulatedClock } from '../../../src/trading/algos';
import { LocalChildScheduler, SfnChildScheduler, childTask } from '../../../src/trading/child-scheduler';
import { cancelParent, executeSignal, getOrder, scheduleNameOf } from '../../../src/trading/execution';
import { parseSignal } from '../../../src/trading/signals';
import { resourcesOfType, template, testApp } from '../../infra/helpers';
import { runQuant } from '../../helpers/quant-cli';
import { countingBroker, tradingWorld } from '../../helpers/trading-world';

const NOW = Date.UTC(2026, 10, 20, 14, 30, 0);
const quote = () => ({ price: 190 });
const w = tradingWorld({
  accounts: 'cancel',
  now: NOW,
  quote,
  broker: () => countingBroker(quote).broker,
  shared: true,
});
const { deps } = w;
const quant = (...args: string[]) => runQuant(['--data-dir', w.dir, 'algo', 'cancel', ...args]);
const counting = () => countingBroker(quote);
const account = () =>
  w.account({
    securities: { AAPL: { region: 'US', assetClass: 'equity', referencePrice: 190 } },
    limits: { maxPositionWeight: 0.5 },
  });

async function startParent(signalId: string, slices: number) {
  const a = await account();
  const scheduler = new LocalChildScheduler();
  await executeSignal(
    deps({ scheduler }),
    parseSignal({
      signalId,
      account: a,
      strategy: 'algo',
      createdAt: NOW,
      orders: [{ symbol: 'AAPL', side: 'buy', qty: 100 * slices, price: 190, priceTime: NOW - 1000 }],
      algo: { algo: 'twap', durationSec: 60 * slices, slices },
    }),
  );
  return { account: a, scheduler, plan: scheduler.plans.get(`${signalId}:AAPL`)! };
}

describe('quant algo cancel (local cloud)', () => {
  it('marks the parent CANCELED; children in flight are rejected (parentCancelled), nothing more is sent; twice is fine', async () => {
    const { account: a, plan } = await startParent('cx-1', 4);
    const { broker, sent } = counting();
    const clock = new SimulatedClock(NOW);
    const d = deps({ broker, now: clock.now });
    clock.advanceTo(Date.parse(plan.children[0].at));
    expect((await childTask(d, plan.children[0])).status).toBe('FILLED');

    const r = await quant('--parent', 'cx-1:AAPL', '--actor', 'alice', '--reason', 'drill', '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual({
      parentId: 'cx-1:AAPL',
      status: 'CANCELED',
      changed: true,
      schedule: 'not-stopped',
      reason: 'cancelled by alice: drill',
    });
    const out = [];
    for (const child of plan.children.slice(1)) {
      clock.advanceTo(Date.parse(child.at));
      out.push(await childTask(d, child));
    }
    expect(out.map((o) => o.status)).toEqual(['REJECTED', 'REJECTED', 'REJECTED']);
    expect(out[0].reason).toBe('parentCancelled: parent cx-1:AAPL was cancelled (cancelled by alice: drill)');
    expect((await getOrder(d, 'cx-1:AAPL#3'))!.breaches).toEqual([
      { rule: 'parentCancelled', limit: 0, value: 0 },
    ]);
    expect(sent).toEqual(['cx-1:AAPL#0']);
    expect((await w.books.get(a))!.positions.AAPL.qty).toBe(100);

    const again = await quant('--parent', 'cx-1:AAPL', '--actor', 'bob', '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({
      status: 'CANCELED',
      changed: false,
      reason: 'cancelled by alice: drill',
    });
    const text = await quant('--parent', 'cx-1:AAPL');
    expect(text.out).toBe('cx-1:AAPL: CANCELED (already); schedule not-stopped\n');
  });

  it('an unknown parent, or an order that is not a parent, exits 2 naming it', async () => {
    const unknown = await quant('--parent', 'nope:AAPL');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/--parent: no order nope:AAPL/);
    const a = await account();
    await executeSignal(
      deps(),
      parseSignal({
        signalId: 'plain-1',
        account: a,
        strategy: 's',
        createdAt: NOW,
        orders: [{ symbol: 'AAPL', side: 'buy', qty: 1, price: 190, priceTime: NOW - 1000 }],
      }),
    );
    const plain = await quant('--parent', 'plain-1:AAPL');
    expect(plain.code).toBe(2);
    expect(plain.err).toMatch(/--parent: order plain-1:AAPL is not an algorithm parent/);
  });

  it('the local scheduler drops the unreleased children of a cancelled parent', async () => {
    const { scheduler } = await startParent('cx-local', 3);
    const r = await cancelParent(deps({ scheduler }), 'cx-local:AAPL', 'alice', 'test');
    expect(r).toMatchObject({ changed: true, schedule: 'stopped' });
    expect(await scheduler.run(deps(), new SimulatedClock(NOW))).toEqual([]);
    expect((await cancelParent(deps({ scheduler }), 'cx-local:AAPL', 'alice', 'test')).schedule).toBe(
      'not-running',
    );
  });
});

describe('cancel during a run of the synthesized algo state machine (aws-local-stepfunctions)', () => {
  it('children after the cancel are rejected with parentCancelled; the execution completes without sending them', async () => {
    const stage = testApp([dev], { 'aws:cdk:bundling-stacks': [] }).stages.dev;
    const [[, machine]] = resourcesOfType(template(stage.trading), 'AWS::StepFunctions::StateMachine');
    const def = resolveDefinitionString(machine.Properties!.DefinitionString);
    walkStates(def, (_name, state) => {
      if (state.Type !== 'Wait') return;
      delete state.TimestampPath; // the real machine waits until each child's time
      state.Seconds = 0;
    });
    const { plan } = await startParent('cx-sfn', 3);
    const { broker, sent } = counting();
    const results: Json[] = [];
    await runLocalStateMachine({
      definition: def,
      input: plan as unknown as Json,
      resolveTask: () => async (input) => {
        const r = (await childTask(deps({ broker }), input)) as unknown as Json;
        results.push(r);
        // An operator cancels after the first child went out.
        if (results.length === 1)
          await quant('--parent', 'cx-sfn:AAPL', '--actor', 'ops', '--reason', 'news');
        return r;
      },
    });
    expect(results.map((r) => (r as { status: string }).status)).toEqual(['FILLED', 'REJECTED', 'REJECTED']);
    expect(sent).toEqual(['cx-sfn:AAPL#0']);
    expect((await getOrder(deps(), 'cx-sfn:AAPL'))!.status).toBe('CANCELED');
  }, 60_000);
});

describe('SfnChildScheduler.stop (a recording client stands in for Step Functions)', () => {
  it("stops the parent's execution by its derived ARN; one that does not exist is not-running, other errors surface", async () => {
    const sent: Array<{ executionArn?: string; error?: string; cause?: string }> = [];
    let fail: Error | undefined;
    const client = {
      send: async (cmd: { input: { executionArn?: string; error?: string; cause?: string } }) => {
        sent.push(cmd.input);
        if (fail) throw fail;
        return {};
      },
    } as unknown as SFNClient;
    const s = new SfnChildScheduler(
      client,
      'arn:aws:states:us-east-1:111111111111:stateMachine:AlgoStateMachine-x',
    );
    await startParent('cx-aws', 2);
    const r = await cancelParent(deps({ scheduler: s }), 'cx-aws:AAPL', 'alice', 'halt');
    expect(r.schedule).toBe('stopped');
    expect(sent[0]).toEqual({
      executionArn: `arn:aws:states:us-east-1:111111111111:execution:AlgoStateMachine-x:${scheduleNameOf('cx-aws:AAPL')}`,
      error: 'parentCancelled',
      cause: 'cancelled by alice: halt',
    });
    fail = new ExecutionDoesNotExist({ message: 'none', $metadata: {} });
    expect(await s.stop('never:AAPL', 'x')).toBe('not-running');
    fail = new Error('throttled');
    await expect(s.stop('cx-aws:AAPL', 'x')).rejects.toThrow('throttled');
    expect(() => new SfnChildScheduler(client, 'not-an-arn').executionArnOf('p')).toThrow(
      /not a state machine ARN/,
    );
  });
});
