// One chat message as the widget draws it, from a live `bot_uttered` payload or the history.

// What the helpdesk pushes for an agent ("**Sam** from our Technical team replied on SUP-000042:").
// Rasa's socketio channel drops message metadata, so live agent replies are known by this line.
const AGENT_REPLY = /^\*\*([^*\n]{1,80})\*\* from our [^\n]{0,80}?team replied/;
// The KB answer ends with its source ("Read the full article: [Title](https://...)"): drawn as a
// card under the answer's text (the channel sends the whole answer as one message).
const ARTICLE_LINK = /(?:^|\n+)Read the full article: \[([^\]\n]{1,200})\]\((https?:\/\/[^\s)]+)\)\s*$/;
// The rating prompt's buttons ("/rate_ticket{...}") are drawn as five stars.
const RATING_PAYLOAD = /^\/rate_ticket\b/;

/**
 * @typedef {{sender: "customer"|"bot"|"agent", text: string, time: Date,
 *            buttons: {title: string, payload: string}[], agentName?: string, id?: string}} ChatMessage
 */

/** A `bot_uttered` payload (text, quick_replies or buttons, maybe custom `data`). */
export function fromBotUttered(payload, now = new Date()) {
  const body = payload && typeof payload.data === "object" && payload.data ? payload.data : payload || {};
  return botMessage({
    text: typeof body.text === "string" ? body.text : "",
    buttons: body.quick_replies || body.buttons || [],
    sender: body.metadata && body.metadata.sender,
    agentName: body.metadata && body.metadata.agent,
    time: now,
  });
}

/** One message of `GET /widget/history/{id}`. */
export function fromHistory(item) {
  const time = new Date(item.time);
  if (item.sender === "customer") {
    return { sender: "customer", text: item.text || "", time, buttons: [], id: item.client_message_id || undefined };
  }
  return botMessage({ ...item, agentName: item.agent, time });
}

function botMessage({ text, buttons, sender, agentName, time }) {
  const agentLine = AGENT_REPLY.exec(text || "");
  const isAgent = sender === "agent" || Boolean(agentLine);
  const cleaned = cleanButtons(buttons);
  return {
    sender: isAgent ? "agent" : "bot",
    text: text || "",
    time: Number.isNaN(time.getTime()) ? new Date() : time,
    buttons: cleaned,
    agentName: isAgent ? agentName || (agentLine && agentLine[1]) || "" : undefined,
    // Only the bot's own answers carry article cards; an agent's words are shown as written.
    article: isAgent ? null : articleOf(text || ""),
    rating: cleaned.length > 0 && cleaned.every((b) => RATING_PAYLOAD.test(b.payload)),
  };
}

/** The source article of a KB answer, and the answer's text without the link line. */
export function articleOf(text) {
  const found = ARTICLE_LINK.exec(text);
  return found ? { title: found[1], url: found[2], body: text.slice(0, found.index) } : null;
}

function cleanButtons(buttons) {
  if (!Array.isArray(buttons)) return [];
  return buttons
    .filter((b) => b && typeof b.title === "string" && typeof b.payload === "string")
    .map((b) => ({ title: b.title, payload: b.payload }));
}

/** A bot message with no text and no buttons: nothing to draw. */
export function isEmpty(message) {
  return !message.text.trim() && message.buttons.length === 0;
}

/** Identity used to line the screen up with the server's history. */
export function keyOf(message) {
  return (message.sender === "customer" ? "customer:" : "bot:") + message.text.trim();
}
