#!/usr/bin/env node
// CDK entry point: `npx cdk synth` builds every environment, `-c env=NAME` only that one.
// The only place that reads environment configuration; stacks get it through props.
import { selectEnvironments } from '../lib/config';
import { createApp } from '../lib/app';

createApp((app) => selectEnvironments(app.node.tryGetContext('env')));
