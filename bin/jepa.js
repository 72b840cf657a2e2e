#!/usr/bin/env node
// The `jepa` command; the TypeScript sources are compiled into dist/ by `npm run build`.
import("../dist/src/cli/main.js").then(
  (m) => m.main(process.argv.slice(2)),
  (err) => {
    console.error(`jepa: error: cannot load the compiled program (run \`npm run build\`): ${err.message}`);
    process.exit(1);
  },
);
