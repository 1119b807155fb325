/**
 * The standby's trading constructs over the trading fixture, dormant, as
 * lib/stacks/disaster-recovery-standby-stack.ts composes them: what `StandbyAlarms` and
 * `StandbyOutputs` are given.
 */
import {
  AlgoScheduler,
  KillSwitch,
  OrderExecution,
  RiskCheckApi,
  SignalChannels,
} from '../../../lib/constructs';
import { orderPath, tradingFixture } from './trading-fixture';

export function dormantStandby() {
  const f = tradingFixture();
  const channels = new SignalChannels(f.stack, 'Channels', { encryptionKey: f.core.key });
  const algos = new AlgoScheduler(f.stack, 'Algos', { ...orderPath(f), dormant: true });
  const orderExecution = new OrderExecution(f.stack, 'OrderExecution', {
    ...orderPath(f),
    dormant: true,
    signals: channels.signals,
    algoStateMachine: algos.stateMachine,
    errorAlarmThreshold: 4,
    monitoring: f.monitoring,
  });
  const riskCheckApi = new RiskCheckApi(f.stack, 'RiskCheckApi', { core: f.core });
  const halt = new KillSwitch(f.stack, 'Halt', { core: f.core, monitoring: f.monitoring, dormant: true });
  const killSwitchRule = halt.haltOn([orderExecution.errorAlarm]);
  return { f, channels, algos, orderExecution, riskCheckApi, halt, killSwitchRule };
}
