import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';

/**
 * One Elastic IP per NAT gateway (`<idPrefix>1`, `<idPrefix>2`, ...), tagged `<stack>-nat-<n>` and
 * retained: every broker or vendor call leaves from one of them, so replacing or deleting the stack
 * must keep the addresses on the broker's allow-list.
 */
export function retainedNatEips(scope: Construct, idPrefix: string, count: number): ec2.CfnEIP[] {
  const stackName = Stack.of(scope).stackName;
  return Array.from({ length: count }, (_, i) => {
    const eip = new ec2.CfnEIP(scope, `${idPrefix}${i + 1}`, {
      domain: 'vpc',
      tags: [{ key: 'Name', value: `${stackName}-nat-${i + 1}` }],
    });
    eip.applyRemovalPolicy(RemovalPolicy.RETAIN);
    return eip;
  });
}
