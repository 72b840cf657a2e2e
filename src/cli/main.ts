/** The `jepa` command line: dispatches to one subcommand. */
import { benchCommand, BENCH_HELP } from "./bench.js";
import { reportError, UsageError } from "./errors.js";

const HELP = `usage: jepa <command> [flags]

JEPA-Reasoner in TypeScript: decoupled latent reasoning on a WebAssembly SIMD engine.

commands:
  bench     measure training and inference speed on the standard workload

Run \`jepa <command> --help\` for a command's flags.`;

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; help: string }> = {
  bench: { run: benchCommand, help: BENCH_HELP },
};

/** Runs the command line and exits with its status. */
export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(HELP);
    return;
  }
  try {
    const command = COMMANDS[name];
    if (!command) throw new UsageError(`unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(", ")})`);
    if (rest.includes("--help") || rest.includes("-h")) {
      console.log(command.help);
      return;
    }
    await command.run(rest);
    process.exit(0);
  } catch (err) {
    process.exit(reportError(err));
  }
}
