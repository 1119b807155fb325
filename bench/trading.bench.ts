/**
 * Trading benchmark: (1) the execution handler against local DynamoDB (dynalite) and S3 —
 * orders/s and where the time goes, with dynalite's raw conditional-put rate as the peer bound;
 * (2) each Lambda bundle (esbuild, the QuantFunction settings) minified size and module load time.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { build } from 'esbuild';
import { createClients } from '../src/aws/clients';
import { LocalCloud } from '../src/local/cloud';
import { PaperBroker } from '../src/trading/broker';
import { tradingServices } from '../src/trading/context';
import { createExecutionHandler } from '../src/trading/execution-handler';

const root = path.resolve(import.meta.dirname, '..');
const out = path.join(root, 'bench/.out/trading');
mkdirSync(out, { recursive: true });

async function handlerThroughput(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-trading-'));
  const cloud = await LocalCloud.start({ dataDir: dir });
  const clients = createClients(cloud.runtime);
  try {
    // Time per AWS command (DynamoDB and S3 clients): where the handler's time goes.
    const spent = new Map<string, { ms: number; n: number }>();
    for (const c of [clients.dynamodb, clients.s3]) {
      const timer =
        (next: (a: unknown) => Promise<unknown>, context: { clientName?: string; commandName?: string }) =>
        async (args: unknown) => {
          const t0 = performance.now();
          try {
            return await next(args);
          } finally {
            const k = `${context.clientName?.replace('Client', '')}.${context.commandName?.replace('Command', '')}`;
            const s = spent.get(k) ?? { ms: 0, n: 0 };
            s.ms += performance.now() - t0;
            s.n++;
            spent.set(k, s);
          }
        };
      (c.middlewareStack as { add(m: never, o: object): void }).add(timer as never, {
        step: 'initialize',
        name: 'benchTimer',
      });
    }
    const svc = await tradingServices(clients, {}, { limitsTtlMs: 5000 });
    const account = 'bench';
    await svc.books.create(account, 10_000_000_00);
    const symbols = Array.from({ length: 50 }, (_, i) => `S${i}`);
    await svc.risk.putLimits(account, {
      securities: Object.fromEntries(
        symbols.map((s) => [s, { region: 'US', assetClass: 'equity', adv: 1e7, referencePrice: 100 }]),
      ),
      limits: {
        maxPositionWeight: 0.05,
        maxOrderAdvFraction: 0.1,
        maxGrossLeverage: 2,
        priceCollarPct: 0.05,
        regionCaps: { US: 1.5 },
      },
    });
    const handler = createExecutionHandler({
      doc: clients.doc,
      ordersTable: svc.tables.orders,
      risk: svc.risk,
      books: svc.books,
      broker: new PaperBroker(() => ({ price: 100 })),
      audit: svc.audit,
      deadLetters: svc.deadLetters,
      persistenceStore: new DynamoDBPersistenceLayer({
        tableName: svc.tables.idempotency,
        awsSdkV3Client: clients.dynamodb,
      }),
    });
    const context = {
      functionName: 'bench',
      awsRequestId: 'b',
      getRemainingTimeInMillis: () => 900_000,
    } as unknown as Context;
    const N = 200;
    const now = Date.now();
    const event: KinesisStreamEvent = {
      Records: Array.from({ length: N }, (_, i) => ({
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: account,
          sequenceNumber: String(1e20 + i),
          approximateArrivalTimestamp: now / 1000,
          data: Buffer.from(
            JSON.stringify({
              signalId: `bench-${i}`,
              account,
              strategy: 'bench',
              createdAt: now,
              orders: [
                { symbol: symbols[i % symbols.length], side: 'buy', qty: 10, price: 100, priceTime: now },
              ],
            }),
          ).toString('base64'),
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `shardId-0:${i}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: 'arn:aws:iam::111111111111:role/bench',
        awsRegion: 'us-east-1',
        eventSourceARN: 'arn:aws:kinesis:us-east-1:111111111111:stream/signals',
      })),
    };
    spent.clear();
    const t0 = performance.now();
    const res = await handler.kinesis(event, context);
    const secs = (performance.now() - t0) / 1000;
    if (res.batchItemFailures.length > 0) throw new Error(`${res.batchItemFailures.length} failures`);
    const totalMs = secs * 1000;
    console.log(
      `execution handler, ${N} signals of one order each (dynalite + local S3, sequential): ${(N / secs).toFixed(1)} orders/s, ${(totalMs / N).toFixed(2)} ms/order`,
    );
    const rows = [...spent.entries()].sort((a, b) => b[1].ms - a[1].ms);
    // The state, limits and book reads of a check run in parallel, so call times overlap: shares
    // are of the summed call time, not of the wall time.
    const aws = rows.reduce((a, [, s]) => a + s.ms, 0);
    for (const [k, s] of rows) {
      console.log(
        `  ${k.padEnd(22)} ${String(s.n).padStart(5)} calls  ${(s.n / N).toFixed(1).padStart(4)}/order  ${(s.ms / s.n).toFixed(2).padStart(6)} ms/call  ${((100 * s.ms) / aws).toFixed(1).padStart(5)}% of call time`,
      );
    }
    console.log(
      `  summed call time ${(aws / N).toFixed(1)} ms/order vs wall ${(totalMs / N).toFixed(1)} ms/order (parallel reads overlap)`,
    );

    // Peer: dynalite's own rate for conditional PutItem, one at a time (the bound for the above).
    const M = 300;
    const p0 = performance.now();
    for (let i = 0; i < M; i++) {
      await clients.dynamodb.send(
        new PutItemCommand({
          TableName: svc.tables.orders,
          Item: { orderId: { S: `peer-${i}` } },
          ConditionExpression: 'attribute_not_exists(orderId)',
        }),
      );
    }
    const ps = (performance.now() - p0) / 1000;
    console.log(
      `peer: dynalite conditional PutItem, sequential: ${(M / ps).toFixed(0)} ops/s (${((ps * 1000) / M).toFixed(2)} ms/op)`,
    );
  } finally {
    clients.destroy();
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function bundles(): Promise<void> {
  console.log('\nLambda bundles (esbuild: ESM, minified, node22, @aws-sdk/* external as in QuantFunction):');
  const env = {
    ...process.env,
    AWS_REGION: 'us-east-1',
    RISK_TABLE: 'r',
    ORDERS_TABLE: 'o',
    IDEMPOTENCY_TABLE: 'i',
    AUDIT_STREAM: 'a',
    DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/111111111111/q',
    TRADING_ACCOUNT: 'main',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  for (const name of ['execution', 'risk-check', 'kill-switch', 'algo-child', 'risk-returns']) {
    const outfile = path.join(out, name, 'index.mjs');
    await build({
      entryPoints: [path.join(root, 'lambda', name, 'index.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      minify: true,
      mainFields: ['module', 'main'],
      external: ['@aws-sdk/*'],
      outfile,
      banner: {
        js: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
      },
      logLevel: 'error',
    });
    const bytes = statSync(outfile).size;
    // Module load: a fresh node process imports the bundle (the cold-start init part we control).
    const probe = path.join(out, name, 'probe.mjs');
    writeFileSync(
      probe,
      // Wall time and the CPU time of the import (CPU is the steadier figure on a loaded machine).
      `const c0 = process.cpuUsage(); const t0 = performance.now(); await import('./index.mjs'); const c = process.cpuUsage(c0); process.stdout.write(JSON.stringify([performance.now() - t0, (c.user + c.system) / 1000]));`,
    );
    const loads: number[] = [];
    const cpus: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = spawnSync(process.execPath, [probe], { env, encoding: 'utf8', cwd: root });
      if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`);
      const [wall, cpu] = JSON.parse(r.stdout) as [number, number];
      loads.push(wall);
      cpus.push(cpu);
    }
    loads.sort((a, b) => a - b);
    cpus.sort((a, b) => a - b);
    console.log(
      `  ${name.padEnd(12)} ${(bytes / 1024).toFixed(0).padStart(5)} KiB (goal < 1 MB)   module load median ${loads[2].toFixed(0)} ms wall (min ${loads[0].toFixed(0)}, max ${loads[4].toFixed(0)}), CPU median ${cpus[2].toFixed(0)} ms (min ${cpus[0].toFixed(0)})`,
    );
  }
}

/** Peer for the load times: importing only the AWS SDK clients the bundles use (external). */
function sdkPeer(): void {
  const probe = path.join(out, 'sdk-probe.mjs');
  const mods = [
    'client-dynamodb',
    'lib-dynamodb',
    'client-s3',
    'client-firehose',
    'client-sqs',
    'client-secrets-manager',
  ];
  writeFileSync(
    probe,
    `const c0 = process.cpuUsage(); const t0 = performance.now(); await Promise.all(${JSON.stringify(mods.map((m) => `@aws-sdk/${m}`))}.map((m) => import(m))); const c = process.cpuUsage(c0); process.stdout.write(JSON.stringify([performance.now() - t0, (c.user + c.system) / 1000]));`,
  );
  const loads: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = spawnSync(process.execPath, [probe], { encoding: 'utf8', cwd: root });
    if (r.status !== 0) throw new Error(`sdk probe: ${r.stderr}`);
    const [wall, cpu] = JSON.parse(r.stdout) as [number, number];
    loads.push(wall);
    cpus.push(cpu);
  }
  loads.sort((a, b) => a - b);
  cpus.sort((a, b) => a - b);
  console.log(
    `  peer: import of the 6 AWS SDK v3 packages alone: median ${loads[2].toFixed(0)} ms wall (min ${loads[0].toFixed(0)}), CPU median ${cpus[2].toFixed(0)} ms (min ${cpus[0].toFixed(0)})`,
  );
}

await handlerThroughput();
await bundles();
sdkPeer();
