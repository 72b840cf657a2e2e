/** The `jepa` command line: dispatches to one subcommand. */
import { arithCommand, ARITH_HELP } from "./arith.js";
import { applyBackendFlag, BACKEND_HELP } from "./backend-flag.js";
import { benchCommand, BENCH_HELP } from "./bench.js";
import { cfgCommand, CFG_HELP } from "./cfg.js";
import { reportError, UsageError } from "./errors.js";
import { generateCommand, GENERATE_HELP } from "./generate.js";
import { gsm8kCommand, GSM8K_HELP } from "./gsm8k.js";
import { inspectCommand, INSPECT_HELP } from "./inspect.js";
import { serveCommand, SERVE_HELP } from "./serve.js";
import { talkerCommand, TALKER_HELP } from "./talker-command.js";
import { treeCommand, TREE_HELP } from "./tree.js";
import { treeEvalCommand, TREE_EVAL_HELP } from "./tree-eval.js";
import { baselineCommand, BASELINE_HELP, pretrainCommand, PRETRAIN_HELP, sstCommand, SST_HELP } from "./train-commands.js";

const HELP = `usage: jepa <command> [flags]

JEPA-Reasoner in TypeScript: decoupled latent reasoning on a WebAssembly SIMD engine.

commands:
  tree      the tree-search experiment end to end, with its report (the main job);
            \`jepa tree eval\` scores a finished run on other trees
  cfg       the CFG robustness experiment: token and latent noise against T and a COCONUT-style C
  arith     the GSM8K-style comparison at CPU scale (word problems, T vs JEPA-Reasoner, Talker ablation)
  pretrain  phase 1: train a Transformer LM with cross-entropy
  sst       phase 2: self-supervised latent training of the Reasoner (from a pretrain checkpoint)
  talker    phase 3: train a Mono- or Dual-Talker on a frozen Reasoner's latent chains
  baseline  the coupled baseline: the pretrained Transformer trained further with cross-entropy
  generate  roll out latents from a prompt and decode them with a Talker checkpoint
  gsm8k     few-shot GSM8K-style evaluation (gsm8k, gsm8k_cot) of a coupled or JEPA checkpoint
  inspect   show what a checkpoint holds (kind, config, step, tensors)
  bench     measure training and inference speed on the standard workload
  serve     the browser page: run a trained tree model and watch its latent reasoning

Every command takes --backend wasm|native|auto (how matrix products run; default auto).
Run \`jepa <command> --help\` for a command's flags.`;

/** A command: what runs it, its help, and its subcommands (`jepa tree eval`). */
interface Command {
  run: (argv: string[]) => Promise<void>;
  help: string;
  sub?: Record<string, Command>;
}

const COMMANDS: Record<string, Command> = {
  tree: { run: treeCommand, help: TREE_HELP, sub: { eval: { run: treeEvalCommand, help: TREE_EVAL_HELP } } },
  cfg: { run: cfgCommand, help: CFG_HELP },
  arith: { run: arithCommand, help: ARITH_HELP },
  pretrain: { run: pretrainCommand, help: PRETRAIN_HELP },
  sst: { run: sstCommand, help: SST_HELP },
  talker: { run: talkerCommand, help: TALKER_HELP },
  baseline: { run: baselineCommand, help: BASELINE_HELP },
  generate: { run: generateCommand, help: GENERATE_HELP },
  gsm8k: { run: gsm8kCommand, help: GSM8K_HELP },
  inspect: { run: inspectCommand, help: INSPECT_HELP },
  bench: { run: benchCommand, help: BENCH_HELP },
  serve: { run: serveCommand, help: SERVE_HELP },
};

/** Runs the command line and exits with its status. */
export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(HELP);
    return;
  }
  try {
    const top = COMMANDS[name];
    if (!top) throw new UsageError(`unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(", ")})`);
    const sub = rest.length > 0 ? top.sub?.[rest[0]] : undefined;
    const [command, args] = sub ? [sub, rest.slice(1)] : [top, rest];
    if (args.includes("--help") || args.includes("-h")) {
      console.log(command.help + BACKEND_HELP);
      return;
    }
    await command.run(applyBackendFlag(args));
    process.exit(0);
  } catch (err) {
    process.exit(reportError(err));
  }
}
