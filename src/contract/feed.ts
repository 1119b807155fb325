/**
 * Names shared by the feed handler (`quant feed run`, bundled from src/cli/feed-handler-main.ts) and
 * the hosts that run it (lib/constructs/feed-handler-host.ts): where the bundle, the runtime and the
 * logs live on an instance, and the service account. Imports nothing.
 */

/** File name of the bundled handler, inside its asset and on the host. */
export const FEED_BUNDLE_FILE = 'feed-handler.mjs';

/** Where the bundle, the Node.js runtime, the logs and the CloudWatch agent config live on a host. */
export const FEED_HOST_PATHS = {
  home: '/opt/quant-feed',
  bundle: `/opt/quant-feed/${FEED_BUNDLE_FILE}`,
  node: '/usr/local/bin/quant-feed-node',
  logs: '/var/log/quant-feed',
  agentConfig: '/opt/aws/amazon-cloudwatch-agent/etc/quant-feed.json',
} as const;

/** The system user the handler runs as (no login, no home). */
export const FEED_SERVICE_USER = 'quant-feed';
