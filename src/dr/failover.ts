/**
 * The failover runbook as data (docs/disaster-recovery.md, "Failover"): the ordered steps that move
 * trading to the warm standby in the DR region, each with its time budget and the exact commands.
 * `quant dr failover` prints it as a checklist or as JSON. Physical names come from the standby
 * stack's outputs (src/contract/dr.ts), read by the commands at run time, so the plan never guesses
 * a generated name.
 *
 * The budgets are estimates, not measurements: nothing here has been timed against AWS.
 */
import { InputError } from '../errors';
import { checkId } from '../risk/ids';
import { STANDBY_OUTPUTS, STANDBY_STACK_ID } from '../contract/dr-standby';
import { TRADING_ENV } from '../contract/trading';

export interface FailoverInput {
  /** Environment name (`prod`): stack names are `<environment>-<id>`. */
  readonly environment: string;
  readonly homeRegion: string;
  readonly drRegion: string;
  /** The trading account to halt and resume. */
  readonly account: string;
}

export interface FailoverStep {
  readonly title: string;
  /** Minutes budgeted for the step (an estimate). */
  readonly minutes: number;
  /** What the step achieves and what to check. */
  readonly why: string;
  /** Shell commands, in order (bash; the `out` helper of `preamble` reads a standby output). */
  readonly commands: readonly string[];
}

export interface FailoverPlan {
  readonly stack: string;
  readonly drRegion: string;
  /** Shell definitions the commands use (`out NAME` prints one output of the standby stack). */
  readonly preamble: readonly string[];
  readonly steps: readonly FailoverStep[];
  readonly totalMinutes: number;
  /** The recovery-time objective the budgets must stay under. */
  readonly rtoMinutes: number;
  /** Every budget is estimated; none was measured against AWS. */
  readonly measured: false;
}

export const RTO_MINUTES = 15;

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const ENVIRONMENT = /^[a-z][a-z0-9-]{0,30}$/;

function check(input: FailoverInput): void {
  if (!ENVIRONMENT.test(input.environment))
    throw new InputError(
      `--env: expected an environment name such as prod, got "${input.environment}"`,
      '--env',
    );
  for (const [flag, v] of [
    ['--home-region', input.homeRegion],
    ['--dr-region', input.drRegion],
  ] as const)
    if (!REGION.test(v))
      throw new InputError(`${flag}: expected a region such as us-west-2, got "${v}"`, flag);
  if (input.homeRegion === input.drRegion)
    throw new InputError(`--dr-region: must differ from --home-region (${input.homeRegion})`, '--dr-region');
  checkId(input.account, '--account');
}

/** The ordered failover steps for one environment; the budgets sum to under `RTO_MINUTES`. */
export function failoverPlan(input: FailoverInput): FailoverPlan {
  check(input);
  const { environment, homeRegion: home, drRegion: dr, account } = input;
  const stack = `${environment}-${STANDBY_STACK_ID}`;
  const o = STANDBY_OUTPUTS;
  const preamble = [
    `STACK=${stack} DR=${dr} HOME_REGION=${home}`,
    `out() { aws cloudformation describe-stacks --region "$DR" --stack-name "$STACK" --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text; }`,
  ];
  const drTables =
    `${TRADING_ENV.riskTable}=$(out ${o.riskTable}) ${TRADING_ENV.ordersTable}=$(out ${o.ordersTable}) ` +
    `${TRADING_ENV.idempotencyTable}=$(out ${o.idempotencyTable}) AWS_REGION=$DR`;
  const steps: FailoverStep[] = [
    {
      title: 'Declare',
      minutes: 1,
      why: 'The home region is impaired (AWS Health, trading functions failing, alarms). Note the time T: it bounds what may be lost. One person runs the steps, one checks each result.',
      commands: ['date -u'],
    },
    {
      title: 'Fence the home region (if it answers)',
      minutes: 2,
      why: 'Halt home trading with the home trading environment (RISK_TABLE, ... as for any --aws risk command; the halt replicates), then stop the replicator so nothing from the home region lands on the replicas after the cut-over. If the home region does not answer, go on: its functions and replicator stop with it.',
      commands: [
        `AWS_REGION=$HOME_REGION quant --aws risk halt --account ${account} --actor "$USER" --reason "DR failover"`,
        `for u in $(aws lambda list-event-source-mappings --region "$HOME_REGION" --query "EventSourceMappings[?contains(FunctionArn, 'TableReplicator')].UUID" --output text); do aws lambda update-event-source-mapping --region "$HOME_REGION" --uuid "$u" --no-enabled; done`,
      ],
    },
    {
      title: 'Check the replicas',
      minutes: 2,
      why: 'The last TableReplicationLag before the failure was under 60 s: the replicas hold every change older than that. A halted account is halted in the replica too.',
      commands: [
        `aws dynamodb scan --region "$DR" --table-name "$(out ${o.riskTable})" --filter-expression "begins_with(pk, :p)" --expression-attribute-values '{":p":{"S":"STATE#"}}'`,
      ],
    },
    {
      title: 'Reconcile with the broker',
      minutes: 4,
      why: "Orders sent in the last minute may be missing from the replica orders table: compare the broker's open orders and fills since T-2 min by orderId; cancel or book what differs before resuming.",
      commands: [`aws dynamodb scan --region "$DR" --table-name "$(out ${o.ordersTable})" --max-items 200`],
    },
    {
      title: 'Wake the standby',
      minutes: 1,
      why: 'Give the order path and the kill switch their reserved concurrency back, enable the three rules and the signals mapping. The account is still HALTED from the home region: nothing trades yet.',
      commands: [
        `aws lambda put-function-concurrency --region "$DR" --function-name "$(out ${o.executionFunction})" --reserved-concurrent-executions "$(out ${o.executionConcurrency})"`,
        `aws lambda put-function-concurrency --region "$DR" --function-name "$(out ${o.algoChildFunction})" --reserved-concurrent-executions "$(out ${o.algoChildConcurrency})"`,
        `aws lambda put-function-concurrency --region "$DR" --function-name "$(out ${o.killSwitchFunction})" --reserved-concurrent-executions "$(out ${o.killSwitchConcurrency})"`,
        `aws events enable-rule --region "$DR" --name "$(out ${o.killSwitchRule})"`,
        `aws events enable-rule --region "$DR" --name "$(out ${o.reconcileRule})"`,
        `aws events enable-rule --region "$DR" --event-bus-name "$(out ${o.orderBus})" --name "$(out ${o.signalRule})"`,
        `aws lambda update-event-source-mapping --region "$DR" --uuid "$(out ${o.signalsMapping})" --enabled`,
      ],
    },
    {
      title: 'Point the strategies at the DR region',
      minutes: 2,
      why: 'Signal producers send to the standby stream or bus and call the standby risk check; nothing reaches the old ones.',
      commands: [
        `echo "signals stream: $(out ${o.signalsStream})  order bus: $(out ${o.orderBus})  risk check: $(out ${o.riskCheckUrl})"`,
      ],
    },
    {
      title: 'Resume deliberately',
      minutes: 1,
      why: 'An operator resumes the account on the replica tables; watch the first orders and the DR alarm topic.',
      commands: [
        `${drTables} quant --aws risk resume --account ${account} --actor "$USER" --reason "DR failover complete"`,
      ],
    },
    {
      title: 'Make it permanent, announce',
      minutes: 1,
      why: 'Set disasterRecovery.standby.dormant to false in lib/config/environments.ts before any deploy of the standby stack (a deploy would otherwise put it back to sleep). Announce the DR region as primary; open the failback ticket.',
      commands: [],
    },
  ];
  const totalMinutes = steps.reduce((s, x) => s + x.minutes, 0);
  return { stack, drRegion: dr, preamble, steps, totalMinutes, rtoMinutes: RTO_MINUTES, measured: false };
}

/** The plan as a numbered checklist with cumulative times (T+m). */
export function formatFailoverPlan(plan: FailoverPlan): string {
  const lines = [
    `Failover to ${plan.drRegion} (${plan.stack}): ${plan.steps.length} steps, ${plan.totalMinutes} of ${plan.rtoMinutes} minutes budgeted (estimates, not measured)`,
    '',
    ...plan.preamble,
    '',
  ];
  let t = 0;
  plan.steps.forEach((s, i) => {
    lines.push(`# ${i + 1}. T+${t} ${s.title} (${s.minutes} min)`, `#    ${s.why}`, ...s.commands, '');
    t += s.minutes;
  });
  lines.push(`# T+${t} trading from ${plan.drRegion}`);
  return `${lines.join('\n')}\n`;
}
