import path from 'node:path';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { FEED_HOST_PATHS, FEED_SERVICE_USER } from '../../../src/contract/feed';
import { FEED_SYSCTL, feedUnit, feedUnitName, writeFileCommand, type FeedRunOptions } from './systemd';

export interface FeedUserDataProps extends Omit<FeedRunOptions, 'channel'> {
  readonly channels: FeedRunOptions['channel'][];
  readonly region: string;
  /** The bundled handler (a zip holding feed-handler.mjs and its source map). */
  readonly bundle: s3assets.Asset;
  /** `s3://bucket/key` of the SBE schema. */
  readonly schemaS3Uri: string;
  /** The CloudWatch agent config (lib/constructs/feed-handler-host/agent-config.ts). */
  readonly agentConfig: unknown;
}

/**
 * Boot script (run on every boot, so a stop/start after a user-data change applies it): kernel
 * settings for multicast, Node.js and the CloudWatch agent from the distribution, the bundle and the
 * schema from S3, one systemd service per channel.
 */
export function feedUserData(p: FeedUserDataProps): ec2.UserData {
  const shell = ec2.UserData.forLinux();
  const user = FEED_SERVICE_USER;
  shell.addCommands(
    'set -euo pipefail',
    writeFileCommand('/etc/sysctl.d/90-quant-feed.conf', FEED_SYSCTL),
    'sysctl --system',
    'dnf install -y nodejs22 amazon-cloudwatch-agent unzip',
    `ln -sf "$(command -v node-22 || command -v node)" ${FEED_HOST_PATHS.node}`,
    `id ${user} >/dev/null 2>&1 || useradd --system --no-create-home --shell /sbin/nologin ${user}`,
    `mkdir -p ${FEED_HOST_PATHS.home} ${path.posix.dirname(p.schemaPath)} ${FEED_HOST_PATHS.logs}`,
    `chown ${user} ${FEED_HOST_PATHS.logs}`,
  );
  const zip = shell.addS3DownloadCommand({
    bucket: p.bundle.bucket,
    bucketKey: p.bundle.s3ObjectKey,
    localFile: '/tmp/quant-feed-handler.zip',
  });
  shell.addCommands(
    `unzip -o ${zip} -d ${FEED_HOST_PATHS.home}`,
    `aws s3 cp ${p.schemaS3Uri} ${p.schemaPath}`,
    writeFileCommand(FEED_HOST_PATHS.agentConfig, JSON.stringify(p.agentConfig, null, 1)),
    `/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:${FEED_HOST_PATHS.agentConfig}`,
    ...p.channels.map((channel) =>
      writeFileCommand(`/etc/systemd/system/${feedUnitName(channel)}.service`, feedUnit({ ...p, channel })),
    ),
    'systemctl daemon-reload',
    ...p.channels.map(
      (c) => `systemctl enable ${feedUnitName(c)}.service && systemctl restart ${feedUnitName(c)}.service`,
    ),
  );
  const userData = new ec2.MultipartUserData();
  // Run the script on every boot, not only the first (AWS's documented cloud-init setting).
  userData.addPart(
    ec2.MultipartBody.fromRawBody({
      contentType: 'text/cloud-config; charset="us-ascii"',
      body: '#cloud-config\ncloud_final_modules:\n- [scripts-user, always]\n',
    }),
  );
  userData.addUserDataPart(shell, ec2.MultipartBody.SHELL_SCRIPT, true);
  return userData;
}
