// Entry point: <script src=".../static/widget/kestrel-widget.js" data-server="http://rasa:5005"
// data-title="..." data-color="#0f5e6e" data-greeting="..."></script> is all a page needs.

import "./widget.css"; // esbuild writes it beside the bundle: kestrel-widget.css
import { readConfig } from "./config.js";
import { startWidget } from "./widget.js";

// Read while this script runs: afterwards document.currentScript is gone.
const script = document.currentScript || document.querySelector('script[src*="kestrel-widget"]');

function boot() {
  // A page that includes the tag twice still gets one widget.
  if (window.KestrelWidget || !script) return;
  window.KestrelWidget = startWidget(readConfig(script));
}

if (document.body) boot();
else document.addEventListener("DOMContentLoaded", boot, { once: true });
