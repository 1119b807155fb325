/**
 * Prints the synthesized definition of a state machine as JSON (a resolved object, CloudFormation
 * references replaced by placeholders), for the local Step Functions runner:
 *
 *   node dist/state-machine-definition.js --env dev --stack Backtest
 *
 * Runtime code (src/) may not import the CDK app (docs/architecture.md), so it runs this as a
 * child process; the definition is therefore always the one the current code synthesizes.
 * Lambda bundling is skipped: only the template is needed.
 */
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { environmentConfig } from '../lib/config';
import { createApp } from '../lib/app';

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (!v) throw new Error(`--${name} is required`);
  return v;
}

const env = arg('env', 'dev');
const stackId = arg('stack');
const { stages } = createApp([environmentConfig(env)], {
  nag: false,
  context: { 'aws:cdk:bundling-stacks': [] },
});
const stage = stages[env];
const stack = stage.node.tryFindChild(stackId) as Stack | undefined;
if (!stack) throw new Error(`no stack "${stackId}" in stage ${env}`);
const machines = Object.entries(Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'));
const wanted = process.argv.includes('--machine') ? arg('machine') : undefined;
const found = wanted ? machines.filter(([id]) => id.startsWith(wanted)) : machines;
if (found.length !== 1) {
  throw new Error(
    `expected one state machine${wanted ? ` matching ${wanted}` : ''} in ${stackId}, found ${machines.map(([id]) => id).join(', ') || 'none'}`,
  );
}
process.stdout.write(
  `${JSON.stringify({ logicalId: found[0][0], definitionString: found[0][1].Properties.DefinitionString })}\n`,
);
