#!/usr/bin/env node
// CDK entry point: `npx cdk synth` builds every environment, `-c env=NAME` only that one;
// `-c 'quant:override={...}'` changes fields of the selected ones, `-c quant:allowDestroy=true` lets
// a non-prod environment's data go with its stacks (lib/quant-stage.ts).
// The only place that reads environment configuration; stacks get it through props.
import { ConfigError, OVERRIDE_CONTEXT, selectEnvironments } from '../lib/config';
import { createApp } from '../lib/app';

try {
  createApp((app) =>
    selectEnvironments(app.node.tryGetContext('env'), app.node.tryGetContext(OVERRIDE_CONTEXT)),
  );
} catch (e) {
  // A configuration mistake is the user's to fix: its message names the field; a stack trace adds nothing.
  if (!(e instanceof ConfigError)) throw e;
  for (const line of e.message.split('\n')) console.error(`error: ${line}`);
  process.exit(1);
}
