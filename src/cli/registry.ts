import type { Services } from '../services.ts';

/** What a command receives: its own arguments, a way to print JSON, and (lazily) the services. */
export interface CommandContext {
  argv: string[];
  /** Print one JSON value on stdout. */
  print(value: unknown): void;
  /** Config + store (REDIS_URL) + services; opened on first use, closed by main. */
  services(): Promise<Services>;
}

export interface Command {
  /** The first word on the command line, e.g. `user`. */
  name: string;
  /** One line for `portcullis --help`. */
  summary: string;
  /** Full usage text for `portcullis <name> --help` and usage errors. */
  usage: string;
  /** Its subcommands (`user list`, ...): a word not among them is answered with the usage and a suggestion. */
  subcommands?: readonly string[];
  /** Returns the exit code (0 on success). */
  run(ctx: CommandContext): Promise<number>;
}

const commands = new Map<string, Command>();

/** Commands are registered in src/cli/main.ts: one line each. */
export function register(command: Command): void {
  if (commands.has(command.name)) throw new Error(`CLI command "${command.name}" registered twice`);
  commands.set(command.name, command);
}

export function lookup(name: string): Command | undefined {
  return commands.get(name);
}

export function commandNames(): string[] {
  return [...commands.keys()];
}

export function allCommands(): Command[] {
  return [...commands.values()].sort((a, b) => a.name.localeCompare(b.name));
}
