// Builds the browser page into web/dist (`npm run build`); `jepa serve` serves it.
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL(".", import.meta.url));
// Cross-origin isolation lets the page's Web Workers share the engine's memory (threads).
const isolation = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

export default {
  root,
  // Relative asset URLs: the page works from any path it is served under.
  base: "./",
  logLevel: "warn",
  clearScreen: false,
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", assetsInlineLimit: 0, reportCompressedSize: false },
  worker: { format: "es" },
  server: { headers: isolation, fs: { allow: [fileURLToPath(new URL("..", import.meta.url))] } },
  preview: { headers: isolation },
};
