// What every subcommand module exports: its name, one-line summary, usage text and entry point.
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** The names its --format takes, where it has one (for shell completion). */
  formats?: readonly string[];
  /** Returns the process exit code; throws HotpathError for user-facing failures. */
  run(argv: readonly string[]): Promise<number>;
}
