/**
 * Chooses the broker adapter from the environment: `BROKER=paper` (default; fills at the signal's
 * price with the configured cost bps) or `BROKER=rest` with `BROKER_URL` and `BROKER_SECRET_ARN`
 * (a Secrets Manager secret `{"keyId": "...", "secretKey": "..."}`).
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { AwsClients } from '../aws/clients';
import { PaperBroker, RestBroker, type BrokerAdapter, type Quote } from './broker';
import { TRADING_ENV } from '../contract/trading';

export async function brokerFromEnv(
  env: NodeJS.ProcessEnv,
  clients: Pick<AwsClients, 'secretsManager'>,
  quote?: (symbol: string) => Quote | undefined,
): Promise<BrokerAdapter> {
  const E = TRADING_ENV;
  const kind = env[E.broker] ?? 'paper';
  if (kind === 'paper') {
    const bps = Number(env[E.paperCostBps] ?? '0');
    if (!(bps >= 0)) throw new Error(`${E.paperCostBps} must be a number >= 0, got ${env[E.paperCostBps]}`);
    // Without a quote source the paper broker fills at the order's limit price.
    return new PaperBroker(quote ?? (() => undefined), { commissionBps: bps }, true);
  }
  if (kind === 'rest') {
    const url = env[E.brokerUrl];
    const arn = env[E.brokerSecretArn];
    if (!url || !arn) throw new Error('BROKER=rest needs BROKER_URL and BROKER_SECRET_ARN');
    const s = await clients.secretsManager.send(new GetSecretValueCommand({ SecretId: arn }));
    let keys: { keyId?: unknown; secretKey?: unknown } = {};
    try {
      keys = JSON.parse(s.SecretString ?? '{}') as typeof keys;
    } catch {
      // reported below without echoing the secret's text
    }
    const { keyId, secretKey } = keys ?? {};
    if (typeof keyId !== 'string' || !keyId || typeof secretKey !== 'string' || !secretKey)
      throw new Error(`secret ${arn} must hold JSON {"keyId": "...", "secretKey": "..."}`);
    return new RestBroker({ baseUrl: url, keyId, secretKey });
  }
  throw new Error(`BROKER must be paper or rest, got ${kind}`);
}
