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
