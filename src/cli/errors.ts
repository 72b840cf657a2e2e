/** Errors the CLI reports as one line (no stack trace): bad flags, bad input, bad files. */

/** A problem with what the user asked for; printed as `jepa: error: <message>`. */
export class UsageError extends Error {}

/** Prints an error as one line and returns the exit code. */
export function reportError(err: unknown): number {
  const message = err instanceof Error ? err.message : String(err);
  console.error(`jepa: error: ${message.split("\n")[0]}`);
  if (process.env.JEPA_DEBUG && err instanceof Error) console.error(err.stack);
  return err instanceof UsageError ? 2 : 1;
}
