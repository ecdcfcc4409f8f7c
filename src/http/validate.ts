import { z } from 'zod';
import { InvalidRequestError } from '../errors.ts';

/** Validate input against a schema at the edge; a failure is a 400 naming the field. */
export function validate<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = issue.path.length ? issue.path.join('.') : 'body';
  const message =
    issue.code === 'unrecognized_keys'
      ? `Unknown field(s): ${issue.keys.join(', ')}`
      : issue.code === 'invalid_type' && issue.input === undefined
        ? `${where} is required`
        : `${where}: ${issue.message}`;
  throw new InvalidRequestError(message);
}
