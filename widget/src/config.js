// The widget's settings, read from its own <script> tag's data-* attributes.

const DEFAULT_COLOR = "#0f5e6e";
const HEX_COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;

/**
 * @param {HTMLScriptElement} script the tag that loaded the widget
 * @returns {{server: string, helpdesk: string, stylesheet: string, title: string,
 *            color: string, greeting: string, lang: string,
 *            identity: {email: string, signature: string} | null}}
 */
export function readConfig(script) {
  const data = script.dataset;
  const src = new URL(script.src, document.baseURI);
  // The helpdesk serves this file from /static/widget/, so it lives two folders up.
  const helpdesk = data.helpdesk || new URL("../..", src).href.replace(/\/$/, "");
  return {
    server: (data.server || src.origin).replace(/\/$/, ""),
    helpdesk,
    stylesheet: src.href.replace(/\.js(?:[?#].*)?$/, ".css"),
    title: data.title || "Kestrel Home support",
    color: HEX_COLOR.test(data.color || "") ? data.color : DEFAULT_COLOR,
    greeting: data.greeting || "Hi! Ask me anything about your Kestrel Home devices, orders or account.",
    lang: data.lang || document.documentElement.lang || "en",
    // A signed-in customer, vouched for by the shop's server (HMAC-SHA256 of the email with a
    // secret the browser never sees); the bot checks the signature, the widget only passes it on.
    identity:
      data.userEmail && data.userSignature ? { email: data.userEmail, signature: data.userSignature } : null,
  };
}

const DARK_TEXT = "#1a1a1a";

/** White or near-black, whichever has the higher WCAG contrast on `hex`. */
export function textColorOn(hex) {
  const background = luminance(hex);
  const onWhite = 1.05 / (background + 0.05);
  const onDark = (background + 0.05) / (luminance(DARK_TEXT) + 0.05);
  return onWhite >= onDark ? "#ffffff" : DARK_TEXT;
}

/** The accent itself where it reads on white (links, outlined buttons), else near-black. */
export function inkOnWhite(hex) {
  return 1.05 / (luminance(hex) + 0.05) >= 4.5 ? hex : DARK_TEXT;
}

function luminance(hex) {
  const full = hex.length === 4 ? "#" + [...hex.slice(1)].map((c) => c + c).join("") : hex;
  const [r, g, b] = [1, 3, 5].map((i) => {
    const channel = parseInt(full.slice(i, i + 2), 16) / 255;
    return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
