// The widget's DOM: launcher, panel, message log, composer. Knows nothing about sockets.
// Everything lives in a shadow root, so the host page's CSS cannot break the widget and the
// widget's CSS cannot touch the page.

import { escapeHtml, renderMarkdown } from "./markdown.js";
import { inkOnWhite, textColorOn } from "./config.js";
import { keyOf } from "./messages.js";

const CHAT_ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';
const STATUS_TEXT = {
  connecting: "Connecting…",
  online: "We typically reply in seconds",
  offline: "Offline: your messages will be sent when the connection is back",
};

function panelHtml(config) {
  return `
<div class="kw-root" hidden>
  <button type="button" class="kw-launcher" aria-label="Open chat" aria-expanded="false"
          aria-controls="kw-panel" aria-describedby="kw-unread">${CHAT_ICON}
    <span class="kw-badge" aria-hidden="true" hidden></span>
  </button>
  <span id="kw-unread" class="kw-sr-only"></span>
  <section id="kw-panel" class="kw-panel" role="dialog" aria-modal="false" aria-labelledby="kw-title" hidden>
    <header class="kw-header">
      <div>
        <h2 id="kw-title" class="kw-title">${escapeHtml(config.title)}</h2>
        <p class="kw-status" role="status">${STATUS_TEXT.connecting}</p>
      </div>
      <button type="button" class="kw-close" aria-label="Close chat">
        <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z"/></svg>
      </button>
    </header>
    <div class="kw-log" role="log" aria-live="polite" aria-relevant="additions" aria-label="Conversation" tabindex="0"></div>
    <div class="kw-typing" hidden><span class="kw-dots" aria-hidden="true"><i></i><i></i><i></i></span><span class="kw-sr-only">The assistant is typing</span></div>
    <div class="kw-tools"><button type="button" class="kw-human">Talk to a person</button></div>
    <form class="kw-composer">
      <textarea class="kw-input" rows="1" aria-label="Message" placeholder="Type your question…" maxlength="2000"></textarea>
      <button type="submit" class="kw-send">Send</button>
    </form>
  </section>
</div>`;
}

function timeHtml(time) {
  const label = time.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return `<time datetime="${escapeHtml(time.toISOString())}" title="${escapeHtml(time.toLocaleString())}">${escapeHtml(label)}</time>`;
}

// A KB answer's text (if any besides the link) with its source article as a card; else the text.
function bubbleHtml(message) {
  const article = message.article;
  if (!article) return renderMarkdown(message.text);
  return (article.body.trim() ? renderMarkdown(article.body) : "") + articleCard(article);
}

// The KB answer's source, as a card that opens the article in a new tab.
function articleCard(article) {
  return (
    `<a class="kw-article" href="${escapeHtml(article.url)}" target="_blank" rel="noopener noreferrer">` +
    `<span class="kw-article-kind">Help centre article</span>` +
    `<span class="kw-article-title">${escapeHtml(article.title)}</span></a>`
  );
}

function senderLabel(message) {
  if (message.sender === "customer") return "You";
  if (message.sender === "agent") return message.agentName ? `${message.agentName}, support team` : "Support team";
  return "Assistant";
}

/**
 * @param {object} options
 * @param {ReturnType<import("./config.js").readConfig>} options.config
 * @param {(text: string, payload: string) => void} options.onSend the customer sends `payload`, shown as `text`
 */
export function createView({ config, onSend }) {
  const host = document.createElement("div");
  host.className = "kestrel-widget-host";
  host.lang = config.lang;
  host.style.setProperty("--kw-accent", config.color);
  host.style.setProperty("--kw-on-accent", textColorOn(config.color));
  host.style.setProperty("--kw-ink", inkOnWhite(config.color));
  const shadow = host.attachShadow({ mode: "open" });
  // A stylesheet file rather than inline styles: pages with a strict Content-Security-Policy
  // allow the helpdesk's origin far more readily than 'unsafe-inline'.
  shadow.innerHTML = `<link rel="stylesheet" href="${escapeHtml(config.stylesheet)}">${panelHtml(config)}`;

  const $ = (selector) => shadow.querySelector(selector);
  const root = $(".kw-root");
  const launcher = $(".kw-launcher");
  const badge = $(".kw-badge");
  const unreadText = $("#kw-unread");
  const panel = $(".kw-panel");
  const status = $(".kw-status");
  const log = $(".kw-log");
  const typing = $(".kw-typing");
  const form = $(".kw-composer");
  const input = $(".kw-input");
  let unread = 0;

  // Shown once styled: an unstyled flash of the panel would be worse than a moment's wait.
  const reveal = () => (root.hidden = false);
  $("link").addEventListener("load", reveal);
  $("link").addEventListener("error", reveal);

  function open() {
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    setUnread(0);
    scrollToEnd();
    input.focus();
  }

  function close() {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  function setUnread(count) {
    unread = count;
    badge.hidden = count === 0;
    badge.textContent = count > 9 ? "9+" : String(count);
    unreadText.textContent = count ? `${count} unread message${count === 1 ? "" : "s"}` : "";
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function send(text, payload) {
    if (!payload.trim()) return;
    onSend(text.trim(), payload.trim());
    input.focus();
  }

  function messageNode(message) {
    const node = document.createElement("div");
    node.className = `kw-msg kw-${message.sender}`;
    node.dataset.key = keyOf(message);
    if (message.id) node.dataset.id = message.id;
    node.innerHTML =
      `<div class="kw-bubble${message.article ? " kw-has-article" : ""}">${bubbleHtml(message)}</div>` +
      `<div class="kw-meta"><span class="kw-who">${escapeHtml(senderLabel(message))}</span> ${timeHtml(message.time)}` +
      `<span class="kw-state"></span></div>`;
    if (message.buttons.length) node.append(message.rating ? starsGroup(message.buttons) : repliesGroup(message.buttons));
    return node;
  }

  function buttonGroup(className, label, buttons, drawButton) {
    const group = document.createElement("div");
    group.className = className;
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", label);
    buttons.forEach((button, index) => {
      const element = document.createElement("button");
      element.type = "button";
      drawButton(element, button, index);
      element.addEventListener("click", () => send(button.title, button.payload));
      group.append(element);
    });
    return group;
  }

  function repliesGroup(buttons) {
    return buttonGroup("kw-replies", "Suggested replies", buttons, (element, button) => {
      element.textContent = button.title;
    });
  }

  // Five stars, left to right; each names its score for screen readers and in the chat log.
  function starsGroup(buttons) {
    return buttonGroup("kw-replies kw-stars", "Rate the help you got", buttons, (element, _button, index) => {
      const label = `${index + 1} out of ${buttons.length} stars`;
      element.className = "kw-star";
      element.textContent = "★";
      element.setAttribute("aria-label", label);
      element.title = label;
    });
  }

  // Quick replies answer the latest question only: once the customer has spoken, older ones go.
  function pruneReplies() {
    let customerSeen = false;
    for (const node of [...log.children].reverse()) {
      if (node.classList.contains("kw-customer")) customerSeen = true;
      else if (customerSeen) node.querySelector(".kw-replies")?.remove();
    }
  }

  // Bubbles of one sender in the same minute share one "who and when" line, under the last.
  function groupMeta() {
    const nodes = [...log.children];
    nodes.forEach((node, i) => {
      const next = nodes[i + 1];
      const metaText = (element) => element.querySelector(".kw-meta").textContent;
      const sameGroup = next && metaText(next) === metaText(node) && !node.querySelector(".kw-replies");
      node.classList.toggle("kw-grouped", Boolean(sameGroup));
    });
  }

  launcher.addEventListener("click", open);
  $(".kw-close").addEventListener("click", close);
  $(".kw-human").addEventListener("click", () => send("Talk to a person", "/request_human"));
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    input.value = "";
    send(text, text);
  });
  input.addEventListener("keydown", (event) => {
    // Enter sends, Shift+Enter starts a new line (and IME composition is left alone).
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  return {
    mount: () => document.body.append(host),
    isOpen: () => !panel.hidden,
    setStatus(state) {
      status.textContent = STATUS_TEXT[state];
      root.dataset.status = state;
    },
    setTyping(on) {
      typing.hidden = !on;
      if (on) scrollToEnd();
    },
    open,
    close,
    /**
     * Draws a message. Unless `atEnd` (what the customer just typed), it goes before the
     * customer's messages still waiting for the link: those come after whatever is said now.
     * @param {import("./messages.js").ChatMessage} message
     * @param {{state?: "queued"|"", countUnread?: boolean, atEnd?: boolean}} options
     */
    add(message, { state = "", countUnread = false, atEnd = false } = {}) {
      const node = messageNode(message);
      log.insertBefore(node, atEnd ? null : log.querySelector('[data-state="queued"]'));
      this.setState(message.id, state);
      pruneReplies();
      groupMeta();
      if (countUnread && panel.hidden) setUnread(unread + 1);
      scrollToEnd();
    },
    /** "queued": waiting for the connection; "": on its way or delivered. */
    setState(id, state) {
      const node = id && log.querySelector(`[data-id="${CSS.escape(id)}"]`);
      if (!node) return;
      node.dataset.state = state;
      node.querySelector(".kw-state").textContent = state === "queued" ? " · Not sent yet" : "";
    },
    /** Keys of the messages on screen, in order, leaving out those in `exceptIds` and the greeting. */
    shownKeys(exceptIds) {
      return [...log.children]
        .filter((node) => !node.dataset.greeting && !exceptIds.has(node.dataset.id))
        .map((node) => node.dataset.key);
    },
    /** Runs `draw` as one batch that screen readers announce as a whole, not message by message. */
    batch(draw) {
      log.setAttribute("aria-busy", "true");
      try {
        draw();
      } finally {
        log.removeAttribute("aria-busy");
        pruneReplies();
        groupMeta();
      }
    },
    clear() {
      log.replaceChildren();
    },
    remove(id) {
      log.querySelector(`[data-id="${CSS.escape(id)}"]`)?.remove();
    },
    greet(message) {
      const node = messageNode(message);
      node.dataset.greeting = "true";
      log.prepend(node);
    },
  };
}
