/**
 * ECS entry point of the backtest batch task (also run as a child process by the local state
 * machine). Exit codes: 0 done, 2 bad input (not worth retrying), 1 anything else.
 * Metrics go to stdout in CloudWatch embedded metric format (the awslogs driver ships them).
 */
import { InputError } from '../../src/errors';
import { BACKTEST_TASK_METRICS as M } from '../../src/contract/metrics';
import { emfLine, runBatchTask } from '../../src/sweep/task';

const NAMESPACE = process.env.POWERTOOLS_METRICS_NAMESPACE ?? M.namespace;
const SERVICE = M.service;

try {
  const r = await runBatchTask(process.env);
  process.stdout.write(`${JSON.stringify({ level: 'INFO', message: 'batch done', ...r })}\n`);
  process.stdout.write(
    `${emfLine(NAMESPACE, SERVICE, {
      [M.paramSetsSucceeded]: { value: r.items, unit: 'Count' },
      [M.paramSetsFailed]: { value: 0, unit: 'Count' },
      [M.batchDuration]: { value: r.durationMs, unit: 'Milliseconds' },
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
    `${emfLine(NAMESPACE, SERVICE, { [M.paramSetsFailed]: { value: items, unit: 'Count' } })}\n`,
  );
  process.exitCode = err instanceof InputError ? 2 : 1;
}
