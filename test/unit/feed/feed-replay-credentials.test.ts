/**
 * TCP replay credentials: the Secrets Manager secret's JSON and the local username + environment
 * password are checked without echoing the secret, and `quant feed run --replay` refuses to start
 * without a way to log on (exit code 2, naming the flag).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  parseReplaySecret,
  REPLAY_PASSWORD_ENV,
  replayCredentialsFromEnv,
} from '../../../src/feed/replay-credentials';
import { runQuant } from '../../helpers/quant-cli';
import { SCHEMA } from './helpers';

const ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:cme-replay-AbCdEf';

describe('replay credentials', () => {
  it('a secret holds {"username", "password"}', () => {
    expect(parseReplaySecret('{"username":"FIRM01","password":"s3cret"}', ARN)).toEqual({
      username: 'FIRM01',
      password: 's3cret',
    });
  });

  it('a malformed secret names the secret and the missing key, never its text', () => {
    for (const [text, key] of [
      ['{"username":"FIRM01"}', 'password'],
      ['{"user":"x","password":"hunter2"}', 'username'],
      ['not json hunter2', 'username'],
      [undefined, 'username'],
      ['{"username":"a","password":""}', 'password'],
    ] as const) {
      let message = '';
      try {
        parseReplaySecret(text, ARN);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toBe(
        `--replay-secret: secret ${ARN} must hold JSON {"username": "...", "password": "..."} (${key} missing or empty)`,
      );
      expect(message).not.toContain('hunter2');
    }
  });

  it('locally: the username from the flag, the password only from the environment', () => {
    expect(replayCredentialsFromEnv('FIRM01', { [REPLAY_PASSWORD_ENV]: 'pw' })).toEqual({
      username: 'FIRM01',
      password: 'pw',
    });
    expect(() => replayCredentialsFromEnv('FIRM01', {})).toThrow(
      /--replay-username: set the password in QUANT_REPLAY_PASSWORD/,
    );
  });
});

describe('quant feed run --replay', () => {
  const saved = process.env[REPLAY_PASSWORD_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[REPLAY_PASSWORD_ENV];
    else process.env[REPLAY_PASSWORD_ENV] = saved;
  });
  const run = (...extra: string[]) =>
    runQuant(['feed', 'run', '--schema', SCHEMA, '--replay', '127.0.0.1:9', '--duration', '1', ...extra]);

  it('without credentials it does not start', async () => {
    const r = await run();
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--replay: the TCP replay service requires a logon: add --replay-secret/);
  });

  it('--replay-username without QUANT_REPLAY_PASSWORD, both ways at once, or a secret without --aws', async () => {
    delete process.env[REPLAY_PASSWORD_ENV];
    expect((await run('--replay-username', 'FIRM01')).err).toMatch(
      /set the password in QUANT_REPLAY_PASSWORD/,
    );
    const both = await run('--replay-username', 'FIRM01', '--replay-secret', ARN);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/--replay-secret and --replay-username: give one of them/);
    const local = await run('--replay-secret', ARN);
    expect(local.code).toBe(2);
    expect(local.err).toMatch(/--replay-secret: Secrets Manager needs --aws/);
  });
});
