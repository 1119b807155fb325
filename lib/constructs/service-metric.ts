import * as cw from 'aws-cdk-lib/aws-cloudwatch';

/**
 * A metric the runtime publishes through its Powertools module (src/aws/powertools.ts), which puts
 * the service name on every metric as a dimension: `source` is the metric set's contract entry
 * (src/contract/metrics.ts), e.g. TCA_METRICS.
 */
export function serviceMetric(
  source: { readonly namespace: string; readonly service: string },
  metricName: string,
  options: cw.MetricOptions = {},
): cw.Metric {
  return new cw.Metric({
    ...options,
    namespace: source.namespace,
    metricName,
    dimensionsMap: { service: source.service, ...options.dimensionsMap },
  });
}
