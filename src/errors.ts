import type * as z from 'zod';

/**
 * Bad input from a user, a file or an event. The message names the field (or file and line)
 * and the problem; the CLI exits with code 2 for these and 1 for anything else.
 */
export class InputError extends Error {
  constructor(
    message: string,
    /** Dotted path of the offending field, e.g. `order.qty` or `bars.csv:17:close`. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

/** Formats the issues of a failed zod parse as `field: problem; field: problem`. */
export function describeZodIssues(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
  prefix = '',
): string {
  return issues
    .map((i) => {
      const path = [prefix, ...i.path.map(String)].filter((p) => p !== '').join('.');
      return `${path || '(root)'}: ${i.message}`;
    })
    .join('; ');
}

/** Validates `value` against `schema`; failures name `source` and every bad field. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, source: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new InputError(
      `${source}: ${describeZodIssues(r.error.issues)}`,
      first ? `${source}:${first.path.map(String).join('.')}` : source,
    );
  }
  return r.data;
}
