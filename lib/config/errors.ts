/** A wrong environment configuration or selection: `bin/app.ts` prints its message without a stack trace. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
