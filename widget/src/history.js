// The conversation as the server has it (Rasa's tracker, through the helpdesk), and how to
// line it up with what is already on screen without drawing anything twice.

import { fromHistory, isEmpty, keyOf } from "./messages.js";

/** @returns {Promise<import("./messages.js").ChatMessage[]>} */
export async function fetchHistory(helpdesk, sessionId) {
  const response = await fetch(`${helpdesk}/widget/history/${encodeURIComponent(sessionId)}`, {
    headers: { Accept: "application/json" },
    credentials: "omit",
  });
  if (!response.ok) throw new Error(`history: HTTP ${response.status}`);
  const body = await response.json();
  return (body.messages || []).map(fromHistory).filter((m) => !isEmpty(m));
}

/** Client message ids the server has stored: those were delivered, whatever the socket said. */
export function deliveredIds(history) {
  return new Set(history.filter((m) => m.id).map((m) => m.id));
}

/**
 * What to draw after a (re)connect.
 *
 * Usually the screen shows a beginning of the history (the tail was missed while offline):
 * only the tail is appended, so a screen reader does not read the whole chat again.
 * When the two disagree (another tab, a cleared screen), the history replaces the screen.
 *
 * @param {string[]} shownKeys keys of the delivered messages on screen, in order
 * @param {import("./messages.js").ChatMessage[]} history
 * @returns {{mode: "append"|"replace", messages: import("./messages.js").ChatMessage[]}}
 */
export function planRedraw(shownKeys, history) {
  const historyKeys = history.map(keyOf);
  const common = commonPrefix(shownKeys, historyKeys);
  if (common === shownKeys.length) return { mode: "append", messages: history.slice(common) };
  if (common === historyKeys.length) return { mode: "append", messages: [] }; // the screen is ahead
  return { mode: "replace", messages: history };
}

/**
 * Live messages that came in while the history was being fetched and are not in it yet.
 * The tracker is saved after the bot's turn, so its tail may or may not hold them.
 */
export function notInHistory(history, arrived) {
  const historyKeys = history.map(keyOf);
  const arrivedKeys = arrived.map(keyOf);
  for (let overlap = Math.min(historyKeys.length, arrivedKeys.length); overlap > 0; overlap -= 1) {
    const tail = historyKeys.slice(historyKeys.length - overlap);
    if (tail.every((key, i) => key === arrivedKeys[i])) return arrived.slice(overlap);
  }
  return arrived;
}

function commonPrefix(a, b) {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i += 1;
  return i;
}
