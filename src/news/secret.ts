/**
 * The news API key from Secrets Manager (in AWS): the secret string is the key itself, or JSON
 * `{"apiKey": "..."}`. An empty or unset secret is an error naming the secret, never echoing it.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { AwsClients } from '../aws/clients';

export async function readNewsApiKey(
  clients: Pick<AwsClients, 'secretsManager'>,
  secretArn: string,
): Promise<string> {
  const s = await clients.secretsManager.send(new GetSecretValueCommand({ SecretId: secretArn }));
  const text = (s.SecretString ?? '').trim();
  let key = text;
  if (text.startsWith('{')) {
    try {
      const j = JSON.parse(text) as { apiKey?: unknown };
      key = typeof j.apiKey === 'string' ? j.apiKey.trim() : '';
    } catch {
      key = '';
    }
  }
  if (!key) throw new Error(`secret ${secretArn} holds no news API key (the key, or {"apiKey": "..."})`);
  return key;
}
