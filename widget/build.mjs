// Bundles src/ and socket.io-client into the helpdesk's static folder, where the one
// <script> tag loads it from. The CSS lands beside the JS (kestrel-widget.css).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const outfile = fileURLToPath(new URL("../bot/web/static/widget/kestrel-widget.js", import.meta.url));

await build({
  entryPoints: [fileURLToPath(new URL("src/index.js", import.meta.url))],
  bundle: true,
  format: "iife",
  // Old enough for the browsers customers still use, new enough to keep the bundle small.
  target: ["es2019"],
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  outfile,
  logLevel: "warning",
});
console.log(`built ${outfile}`);
