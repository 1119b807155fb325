/**
 * Schedulers for the children of algorithm parents. In AWS a Step Functions Standard execution per
 * parent (named after the parent id, so a redelivery cannot start a second one) waits until each
 * child's time and invokes the algo-child Lambda; locally a simulated clock releases the same
 * children through the same `submitChildOrder`.
 */
import {
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  StartExecutionCommand,
  StopExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { InputError } from '../errors';
import type { SimulatedClock } from './algos';
import { runSchedule } from './algos';
import {
  scheduleNameOf,
  submitChildOrder,
  type ChildResult,
  type ChildScheduler,
  type ExecutionDeps,
  type ParentPlan,
} from './execution';

/** One execution of the child-order state machine per parent. */
export class SfnChildScheduler implements ChildScheduler {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(plan: ParentPlan): Promise<void> {
    try {
      await this.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: scheduleNameOf(plan.parentId),
          input: JSON.stringify(plan),
        }),
      );
    } catch (err) {
      // Already started by an earlier delivery of the same signal: its schedule stands.
      if (err instanceof ExecutionAlreadyExists) return;
      throw err;
    }
  }

  /** The execution ARN of a parent's schedule: its name is derived from the parent id. */
  executionArnOf(parentId: string): string {
    const m = /^(arn:[^:]+:states:[^:]*:[^:]*):stateMachine:([^:]+)$/.exec(this.stateMachineArn);
    if (!m) throw new Error(`not a state machine ARN: ${this.stateMachineArn}`);
    return `${m[1]}:execution:${m[2]}:${scheduleNameOf(parentId)}`;
  }

  /** StopExecution; an execution that never started is `not-running` (stopping twice is fine). */
  async stop(parentId: string, cause: string): Promise<'stopped' | 'not-running'> {
    try {
      await this.sfn.send(
        new StopExecutionCommand({
          executionArn: this.executionArnOf(parentId),
          error: 'parentCancelled',
          cause: cause.slice(0, 32_000),
        }),
      );
      return 'stopped';
    } catch (err) {
      if (err instanceof ExecutionDoesNotExist) return 'not-running';
      throw err;
    }
  }
}

/** Collects parents and releases their children on a simulated clock (`quant paper`, tests). */
export class LocalChildScheduler implements ChildScheduler {
  readonly plans = new Map<string, ParentPlan>();

  async start(plan: ParentPlan): Promise<void> {
    if (!this.plans.has(plan.parentId)) this.plans.set(plan.parentId, plan);
  }

  /** Drops a parent's unreleased children. */
  async stop(parentId: string): Promise<'stopped' | 'not-running'> {
    return this.plans.delete(parentId) ? 'stopped' : 'not-running';
  }

  /**
   * Releases every child of every collected parent in time order, moving `clock` to each child's
   * time (pass the same clock as `deps.now`), and forgets the parents. With `quote`, each child is
   * priced at the simulated market's quote at its release (else at the parent's reference price).
   */
  async run(
    deps: ExecutionDeps,
    clock: SimulatedClock,
    quote?: (symbol: string, time: number) => { price: number; priceTime: number } | undefined,
  ): Promise<ChildResult[]> {
    // Sorted here (stably) so release index i is all[i]: runSchedule sorts the same way.
    const all = [...this.plans.values()]
      .flatMap((p) => p.children)
      .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    this.plans.clear();
    return runSchedule(
      all.map((c) => ({ time: Date.parse(c.at), qty: c.qty })),
      clock,
      (child, i) => submitChildOrder(deps, { ...all[i], ...quote?.(all[i].symbol, child.time) }),
    );
  }
}

/** What the state machine's task gets back for one child (small: it goes into the history). */
export interface ChildTaskResult {
  readonly orderId?: string;
  readonly status: string;
  readonly approvedQty?: number;
  readonly filledQty?: number;
  readonly duplicate?: boolean;
  readonly reason?: string;
}

/**
 * The algo-child task: a bad child is answered (INVALID with its reason, never retried); a
 * transient failure throws, so the state machine retries it with backoff (the child is idempotent).
 */
export async function childTask(deps: ExecutionDeps, event: unknown): Promise<ChildTaskResult> {
  try {
    const { order, duplicate } = await submitChildOrder(deps, event);
    return {
      orderId: order.orderId,
      status: order.status,
      approvedQty: order.approvedQty,
      filledQty: order.filledQty,
      duplicate,
      reason: order.reason,
    };
  } catch (err) {
    if (err instanceof InputError) return { status: 'INVALID', reason: err.message };
    throw err;
  }
}
