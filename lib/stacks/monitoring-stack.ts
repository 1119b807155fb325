/**
 * Monitoring of one environment: the alarm topic, a shared key for log groups, and the dashboard.
 *
 * How another stack takes part (it receives `monitoring: MonitoringHub` through its props):
 *
 *   // an alarm in YOUR stack that notifies the alarm topic and appears in the dashboard's alarm list
 *   // (`>=` threshold over 1 period, missing data not breaching, unless said otherwise)
 *   const alarm = props.monitoring.alarm(this, 'QueueAge', { description, metric, threshold: 300 });
 *   // ... and its graph with the threshold line, for your section
 *   alarm.graph('Queue age (s)');
 *   // a titled section of widgets (each inner array is one row, 24 grid units wide)
 *   props.monitoring.addSection('Ingestion', [[new cw.GraphWidget({ title: 'Records', left: [metric] })]]);
 *   // encrypted log groups: `props.monitoring.logKey`, retention `props.monitoring.logRetentionDays`
 *
 * Why two stacks: alarms live in the stack that owns the metric and act on the topic, so every stack
 * depends on `Monitoring`; the dashboard shows every stack's metrics and alarms, so `Dashboard` depends
 * on every stack. One stack holding both would be a dependency cycle. Widgets and the alarm list are
 * rendered lazily at synth time, so sections may be added in any order, after the Dashboard stack exists.
 */
import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { PlatformAlarm, QuantKey } from '../constructs';
import type { PlatformAlarmProps } from '../constructs';

export interface MonitoringStackProps extends StackProps {
  /** Environment name, shown in the topic's display name. */
  readonly environmentName: string;
  /** Address subscribed to the alarm topic (the recipient confirms the subscription by e-mail). */
  readonly alarmEmail: string;
  /** Default retention of application log groups, in days. */
  readonly logRetentionDays: number;
}

/** The alarm topic (KMS-encrypted, TLS-only) and the key every stack's log groups use. Built first. */
export class MonitoringStack extends Stack {
  readonly alarmTopic: sns.Topic;
  /** Key for SNS topics that CloudWatch alarms and EventBridge publish to. */
  readonly topicKey: kms.IKey;
  /** Key for CloudWatch log groups of every stack in this environment. */
  readonly logKey: kms.IKey;
  readonly logRetentionDays: number;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    this.logRetentionDays = props.logRetentionDays;
    this.logKey = new QuantKey(this, 'LogKey', {
      description: 'CloudWatch Logs of the quant platform',
      allowCloudWatchLogs: true,
    });
    this.topicKey = new QuantKey(this, 'TopicKey', {
      description: 'Alarm and notification topics of the quant platform',
      allowCloudWatchAlarms: true,
      allowEventBridge: true,
    });
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `Quant ${props.environmentName} alarms`,
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    this.alarmTopic.addSubscription(new subs.EmailSubscription(props.alarmEmail));
  }
}

export interface DashboardStackProps extends StackProps {
  /** Environment name, shown in the dashboard's header. */
  readonly environmentName: string;
}

/** Shows the alarm state of every registered alarm; rendered at synth time, after all stacks registered. */
class LazyAlarmStatusWidget extends cw.ConcreteWidget {
  constructor(private readonly alarms: readonly cw.IAlarm[]) {
    super(24, 4);
  }

  toJson(): unknown[] {
    if (this.alarms.length === 0) return [];
    const widget = new cw.AlarmStatusWidget({
      title: 'Alarms',
      alarms: [...this.alarms],
      width: this.width,
      height: this.height,
      sortBy: cw.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
    });
    widget.position(this.x ?? 0, this.y ?? 0);
    return widget.toJson();
  }
}

/** The environment's CloudWatch dashboard. Built from what other stacks registered; nothing depends on it. */
export class DashboardStack extends Stack {
  readonly dashboard: cw.Dashboard;
  private readonly alarms: cw.IAlarm[] = [];
  private readonly sectionTitles: string[] = [];

  constructor(scope: Construct, id: string, props: DashboardStackProps) {
    super(scope, id, props);
    this.dashboard = new cw.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(24),
      periodOverride: cw.PeriodOverride.AUTO,
    });
    this.dashboard.addWidgets(
      new cw.TextWidget({
        markdown: Lazy.string({
          produce: () =>
            `# Quant platform: ${props.environmentName}\nSections: ${this.sectionTitles.join(' · ') || 'none'}`,
        }),
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(new LazyAlarmStatusWidget(this.alarms));
  }

  /** Lists an alarm in the dashboard's alarm status widget. */
  addAlarm(alarm: cw.IAlarm): void {
    this.alarms.push(alarm);
  }

  /** Adds a header and rows of widgets (each inner array is one row). */
  addSection(title: string, rows: readonly (readonly cw.IWidget[])[]): void {
    if (title.trim() === '') throw new Error('addSection: title must not be empty');
    if (this.sectionTitles.includes(title))
      throw new Error(`addSection: a section "${title}" already exists`);
    this.sectionTitles.push(title);
    this.dashboard.addWidgets(new cw.TextWidget({ markdown: `## ${title}`, width: 24, height: 1 }));
    for (const row of rows) this.dashboard.addWidgets(...row);
  }
}

/** What every stack receives to take part in monitoring (see the top of this file). */
export interface IMonitoring {
  /** SNS topic that every alarm notifies. */
  readonly alarmTopic: sns.ITopic;
  /** Key for log groups (`EncryptedLogGroup`, `QuantFunction`). */
  readonly logKey: kms.IKey;
  /** Default log retention in days. */
  readonly logRetentionDays: number;
  /**
   * Creates an alarm in `scope` (your stack) on `metric` against `threshold` that notifies the alarm
   * topic (ALARM and OK) and is listed on the dashboard; `.graph(title)` draws it for a section.
   */
  alarm(scope: Construct, id: string, props: Omit<PlatformAlarmProps, 'topic'>): PlatformAlarm;
  /** Adds a titled section of widget rows to the environment dashboard. */
  addSection(title: string, rows: readonly (readonly cw.IWidget[])[]): void;
}

/** Joins the two monitoring stacks behind `IMonitoring`. */
export class MonitoringHub implements IMonitoring {
  constructor(
    private readonly alerts: MonitoringStack,
    private readonly board: DashboardStack,
  ) {}

  get alarmTopic(): sns.ITopic {
    return this.alerts.alarmTopic;
  }

  get logKey(): kms.IKey {
    return this.alerts.logKey;
  }

  get logRetentionDays(): number {
    return this.alerts.logRetentionDays;
  }

  alarm(scope: Construct, id: string, props: Omit<PlatformAlarmProps, 'topic'>): PlatformAlarm {
    this.checkScope(scope);
    const alarm = new PlatformAlarm(scope, id, { ...props, topic: this.alerts.alarmTopic });
    this.board.addAlarm(alarm);
    return alarm;
  }

  private checkScope(scope: Construct): void {
    if (Stack.of(scope) === this.board)
      throw new Error('alarm: create alarms in the stack that owns the metric, not in the Dashboard stack');
  }

  addSection(title: string, rows: readonly (readonly cw.IWidget[])[]): void {
    this.board.addSection(title, rows);
  }
}
