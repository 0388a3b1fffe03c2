// The little Markdown the bot and agents write: **bold**, [links](https://...), bare URLs,
// "- " lists, line breaks. Every character of the source is HTML-escaped *before* any markup
// is added, so text from any sender (bot, agent, KB article) can never become HTML.

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const ENTITY = "&(?:quot|#39|lt|gt);";

// Runs on escaped text: a URL can no longer contain a raw quote or angle bracket.
const INLINE = new RegExp(
  [
    String.raw`\[([^\]\n]+)\]\(((?:https?:\/\/|mailto:)[^\s)]+)\)`, // [label](url)
    String.raw`\*\*([^*\n]+)\*\*`, // **bold**
    // A bare URL: it stops before an escaped quote or bracket and drops trailing punctuation.
    String.raw`(https?:\/\/(?:(?!${ENTITY})[^\s<])*(?:(?!${ENTITY})[^\s<.,;:!?)\]]))`,
  ].join("|"),
  "g",
);

function link(href, labelHtml) {
  return `<a href="${href}" target="_blank" rel="noopener noreferrer">${labelHtml}</a>`;
}

function inline(escaped, { links = true } = {}) {
  return escaped.replace(INLINE, (match, label, href, bold, bare) => {
    if (label !== undefined) return links ? link(href, inline(label, { links: false })) : match;
    if (bold !== undefined) return `<strong>${inline(bold, { links })}</strong>`;
    return links ? link(bare, bare) : match;
  });
}

function block(lines) {
  const html = [];
  let items = [];
  let text = [];
  const flushItems = () => {
    if (items.length) html.push(`<ul>${items.map((item) => `<li>${inline(item)}</li>`).join("")}</ul>`);
    items = [];
  };
  const flushText = () => {
    if (text.length) html.push(`<p>${text.map((line) => inline(line)).join("<br>")}</p>`);
    text = [];
  };
  for (const line of lines) {
    const item = /^\s*[-*] (.*)$/.exec(line);
    if (item) {
      flushText();
      items.push(item[1]);
    } else {
      flushItems();
      text.push(line);
    }
  }
  flushText();
  flushItems();
  return html.join("");
}

/** Safe HTML for a chat message written in a small Markdown subset. */
export function renderMarkdown(source) {
  const escaped = escapeHtml(source || "").replace(/\r\n?/g, "\n").trim();
  return escaped
    .split(/\n{2,}/)
    .map((paragraph) => block(paragraph.split("\n")))
    .join("");
}
