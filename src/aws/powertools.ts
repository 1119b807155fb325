/**
 * The Powertools every Lambda handler shares: one logger, metrics and tracer per function, and
 * `instrumented`, which wraps a handler so each invocation is logged with its context, traced as a
 * `## handler` subsegment (cold start and service annotated) and publishes its stored metrics
 * whatever happens. Service name and namespace default to what QuantFunction sets in the
 * environment (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';
import type * as z from 'zod';
import { describeZodIssues, InputError } from '../errors';

export { MetricUnit };

export interface Powertools {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
}

export function powertools(opts: { serviceName?: string; namespace?: string } = {}): Powertools {
  const { serviceName, namespace } = opts;
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ serviceName, namespace }),
    tracer: new Tracer({ serviceName }),
  };
}

/** Adds one metric with one dimension (a single-metric EMF document, e.g. rejects per rule). */
export function dimensionMetric(
  metrics: Metrics,
  dimension: [string, string],
  name: string,
  unit: (typeof MetricUnit)[keyof typeof MetricUnit],
  value: number,
): void {
  const m = metrics.singleMetric();
  m.addDimension(...dimension);
  m.addMetric(name, unit, value);
}

/** The handler, logged with its context, traced and publishing its stored metrics on every exit. */
export function instrumented<E, R>(
  { logger, metrics, tracer }: Powertools,
  fn: (event: E, context: Context) => Promise<R>,
): (event: E, context?: Context) => Promise<R> {
  return async (event, context) => {
    if (context) logger.addContext(context);
    const traced = tracer.isTracingEnabled();
    const segment = traced ? tracer.getSegment() : undefined;
    const sub = segment?.addNewSubsegment('## handler');
    if (sub) {
      tracer.setSegment(sub);
      tracer.annotateColdStart();
      tracer.addServiceNameAnnotation();
    }
    try {
      // Invoked by hand (tests, local runners) without a context.
      const r = await fn(event, context as Context);
      if (sub) tracer.addResponseAsMetadata(r, 'handler');
      return r;
    } catch (err) {
      if (sub) tracer.addErrorAsMetadata(err as Error);
      throw err;
    } finally {
      if (sub && segment) {
        sub.close();
        tracer.setSegment(segment);
      }
      // Handlers without metrics this time publish nothing (and log no warning about it).
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}

/** Parses an event with its schema; a mismatch is an `InputError` naming the fields. */
export function parseEvent<S extends z.ZodType>(schema: S, event: unknown, what = 'event'): z.infer<S> {
  const r = schema.safeParse(event);
  if (!r.success) throw new InputError(`${what}: ${describeZodIssues(r.error.issues)}`, what);
  return r.data;
}
