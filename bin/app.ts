#!/usr/bin/env node
// CDK entry point: `npx cdk synth` builds every environment, `-c env=NAME` only that one.
// The only place that reads environment configuration; stacks get it through props.
import { ConfigError, selectEnvironments } from '../lib/config';
import { createApp } from '../lib/app';

try {
  createApp((app) => selectEnvironments(app.node.tryGetContext('env')));
} catch (e) {
  // A configuration mistake is the user's to fix: its message names the field; a stack trace adds nothing.
  if (!(e instanceof ConfigError)) throw e;
  console.error(`error: ${e.message}`);
  process.exit(1);
}
