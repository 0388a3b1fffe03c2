// What the widget keeps in the browser: the conversation id (shared by all tabs, so a reload
// or a new tab continues the same chat) and this tab's unsent messages.

const PREFIX = "kestrel-widget:";

// Storage can be switched off or full (private windows, strict cookie settings): the chat
// still works, it just forgets on reload.
function safeStore(kind) {
  const memory = new Map();
  let store = null;
  try {
    store = window[kind];
    store.setItem(PREFIX + "probe", "1");
    store.removeItem(PREFIX + "probe");
  } catch {
    store = null;
  }
  return {
    get: (key) => (store ? store.getItem(PREFIX + key) : memory.get(key) ?? null),
    set: (key, value) => {
      try {
        if (store) return store.setItem(PREFIX + key, value);
      } catch {
        // quota exceeded: keep it for this page at least
      }
      memory.set(key, value);
    },
  };
}

const shared = safeStore("localStorage");
// Per tab: two open tabs must never both send the same queued message.
const perTab = safeStore("sessionStorage");

/** A random 32-hex-digit id (what Rasa itself would pick), made once per server, browser and customer. */
export function conversationId(server, customer) {
  const key = "session:" + server + (customer ? ":" + customer.trim().toLowerCase() : "");
  let id = shared.get(key);
  if (!/^[0-9a-f]{32}$/.test(id || "")) {
    // getRandomValues, not randomUUID: the latter needs a secure context, and shops run plain http too.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    id = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
    shared.set(key, id);
  }
  return id;
}

export function loadOutbox(sessionId) {
  try {
    const items = JSON.parse(perTab.get("outbox:" + sessionId) || "[]");
    return Array.isArray(items) ? items : [];
  } catch {
    return [];
  }
}

export function saveOutbox(sessionId, items) {
  perTab.set("outbox:" + sessionId, JSON.stringify(items));
}
