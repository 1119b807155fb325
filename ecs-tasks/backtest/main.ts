/**
 * ECS entry point of the backtest batch task (also run as a child process by the local state
 * machine). Exit codes: 0 done, 2 bad input (not worth retrying), 1 anything else.
 * Metrics go to stdout in CloudWatch embedded metric format (the awslogs driver ships them).
 */
import { InputError } from '../../src/errors';
import { emfLine, runBatchTask } from '../../src/sweep/task';

const NAMESPACE = process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'QuantPlatform';
const SERVICE = 'backtest-task';

try {
  const r = await runBatchTask(process.env);
  process.stdout.write(`${JSON.stringify({ level: 'INFO', message: 'batch done', ...r })}\n`);
  process.stdout.write(
    `${emfLine(NAMESPACE, SERVICE, {
      ParamSetsSucceeded: { value: r.items, unit: 'Count' },
      ParamSetsFailed: { value: 0, unit: 'Count' },
      BatchDuration: { value: r.durationMs, unit: 'Milliseconds' },
    })}\n`,
  );
  process.exitCode = 0;
} catch (err) {
  const items = (() => {
    try {
      return (JSON.parse(process.env.BATCH_ITEMS ?? '[]') as unknown[]).length;
    } catch {
      return 0;
    }
  })();
  process.stderr.write(
    `${JSON.stringify({ level: 'ERROR', message: err instanceof Error ? err.message : String(err), field: err instanceof InputError ? err.field : undefined })}\n`,
  );
  process.stdout.write(
    `${emfLine(NAMESPACE, SERVICE, { ParamSetsFailed: { value: items, unit: 'Count' } })}\n`,
  );
  process.exitCode = err instanceof InputError ? 2 : 1;
}
