/**
 * Credentials of the CME TCP replay logon (Username 553, Password 554). On AWS they live in a Secrets
 * Manager secret (`feed.tcpReplayCredentialsSecretArn`, passed as `--replay-secret`) holding JSON
 * `{"username": "...", "password": "..."}`; locally `--replay-username` with the password in the
 * environment (`QUANT_REPLAY_PASSWORD`), so it never appears on a command line.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InputError } from '../errors';
import type { ReplayCredentials } from './tcp-replay';

export const REPLAY_PASSWORD_ENV = 'QUANT_REPLAY_PASSWORD';

/** Reads `{"username", "password"}` from a secret's text; errors name the secret, never echo its text. */
export function parseReplaySecret(text: string | undefined, secretId: string): ReplayCredentials {
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    value = undefined;
  }
  const v = (value ?? {}) as { username?: unknown; password?: unknown };
  for (const k of ['username', 'password'] as const) {
    const x = v[k];
    if (typeof x !== 'string' || x === '' || x.includes('\x01'))
      throw new InputError(
        `--replay-secret: secret ${secretId} must hold JSON {"username": "...", "password": "..."} (${k} missing or empty)`,
        'replay-secret',
      );
  }
  return { username: v.username as string, password: v.password as string };
}

export async function replayCredentialsFromSecret(
  client: Pick<SecretsManagerClient, 'send'>,
  secretId: string,
): Promise<ReplayCredentials> {
  const s = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  return parseReplaySecret(s.SecretString, secretId);
}

/** `--replay-username` and the password from the environment. */
export function replayCredentialsFromEnv(username: string, env: NodeJS.ProcessEnv): ReplayCredentials {
  const password = env[REPLAY_PASSWORD_ENV];
  if (username === '' || username.includes('\x01'))
    throw new InputError(`--replay-username: "${username}" is not a username`, 'replay-username');
  if (!password || password.includes('\x01'))
    throw new InputError(
      `--replay-username: set the password in ${REPLAY_PASSWORD_ENV} (it is never taken from the command line)`,
      'replay-username',
    );
  return { username, password };
}
