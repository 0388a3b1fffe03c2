// Customer messages on their way to Rasa: one at a time, in order, kept (per tab) until Rasa
// acknowledges them, so a dropped link or a reload loses none. A message whose acknowledgement
// was lost is looked up in the server's history before it is sent again, so none is doubled.

import { loadOutbox, saveOutbox } from "./storage.js";

/**
 * @param {object} options
 * @param {string} options.sessionId
 * @param {{isReady: () => boolean, send: (item: object) => Promise<void>}} options.connection
 * @param {(item: object) => void} options.onSending the item is on the wire (draw it as sent)
 * @param {(item: object) => void} options.onDelivered Rasa has handled it
 * @param {(busy: boolean) => void} options.onBusy the bot is working on a message
 */
export function createOutbox({ sessionId, connection, onSending, onDelivered, onBusy }) {
  let items = loadOutbox(sessionId);
  let sending = false;
  let held = false;

  const persist = () => saveOutbox(sessionId, items);

  async function flush() {
    if (sending || held || !items.length || !connection.isReady()) return;
    sending = true;
    const item = items[0];
    item.attempted = true;
    persist();
    onSending(item);
    onBusy(true);
    try {
      await connection.send(item);
    } catch {
      // Offline: the item stays first in line; the next connection flushes again.
      sending = false;
      onBusy(false);
      return;
    }
    items = items.filter((i) => i.id !== item.id);
    persist();
    sending = false;
    onDelivered(item);
    if (items.length) flush();
    else onBusy(false);
  }

  return {
    flush,
    /** @returns {object[]} the messages not yet delivered, oldest first */
    pending: () => items.slice(),
    add(item) {
      items.push(item);
      persist();
      flush();
    },
    /** Stops sending while the screen is lined up with the server after a reconnect. */
    hold() {
      held = true;
    },
    release() {
      held = false;
      flush();
    },
    /** Drops what the server already stored; returns true when some sent item is still unaccounted for. */
    reconcile(delivered) {
      const done = items.filter((i) => delivered.has(i.id));
      items = items.filter((i) => !delivered.has(i.id));
      persist();
      done.forEach(onDelivered);
      return items.some((i) => i.attempted);
    },
  };
}
