// Wires the pieces together: what the customer types goes through the outbox to Rasa, what
// the bot says is drawn, and after every (re)connect the screen is lined up with the history.

import { openConnection } from "./connection.js";
import { deliveredIds, fetchHistory, notInHistory, planRedraw } from "./history.js";
import { fromBotUttered, isEmpty } from "./messages.js";
import { createOutbox } from "./outbox.js";
import { conversationId } from "./storage.js";
import { createView } from "./view.js";

// A message sent just before the link dropped may still be in Rasa's hands (the tracker is
// saved at the end of the bot's turn): look at the history once more before sending it again.
const RECHECK_DELAY_MS = 4000;

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function newId() {
  return [...crypto.getRandomValues(new Uint8Array(12))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function customerMessage(item) {
  return { sender: "customer", text: item.text, time: new Date(item.time), buttons: [], id: item.id };
}

/** Builds the widget into the page and connects it. */
export function startWidget(config) {
  // A signed-in customer gets a conversation of their own: another account signing in on the
  // same browser must not continue (and read) theirs.
  const sessionId = conversationId(config.server, config.identity?.email);
  // Other open tabs of the same conversation get the bot's answers from Rasa's room, but not
  // what the customer typed here: tell them.
  const tabs = "BroadcastChannel" in window ? new BroadcastChannel(`kestrel-widget:${sessionId}`) : null;
  let syncRun = 0;
  let arrivedDuringSync = null;

  const greeting = () => ({ sender: "bot", text: config.greeting, time: new Date(), buttons: [] });

  const view = createView({
    config,
    onSend(text, payload) {
      const item = { id: newId(), text, payload, time: new Date().toISOString() };
      view.add(customerMessage(item), { state: "queued", atEnd: true });
      outbox.add(item);
    },
  });

  function receiveLive(message) {
    if (isEmpty(message)) return;
    if (arrivedDuringSync) arrivedDuringSync.push(message);
    else view.add(message, { countUnread: message.sender !== "customer" });
  }

  const connection = openConnection({
    server: config.server,
    sessionId,
    identity: config.identity,
    onReady: () => {
      view.setStatus("online");
      sync();
    },
    onOffline: () => view.setStatus("offline"),
    onBotMessage: (payload) => receiveLive(fromBotUttered(payload)),
  });

  const outbox = createOutbox({
    sessionId,
    connection,
    onSending(item) {
      view.setState(item.id, "");
      tabs?.postMessage({ kind: "customer", item });
    },
    onDelivered: (item) => view.setState(item.id, ""),
    onBusy: (busy) => view.setTyping(busy),
  });

  tabs?.addEventListener("message", (event) => {
    if (event.data?.kind === "customer") receiveLive(customerMessage(event.data.item));
  });

  function redraw(history, arrived) {
    const pending = outbox.pending();
    const plan = planRedraw(view.shownKeys(new Set(pending.map((item) => item.id))), history);
    view.batch(() => {
      if (plan.mode === "replace") {
        view.clear();
        view.greet(greeting());
        pending.forEach((item) => view.add(customerMessage(item), { state: "queued", atEnd: true }));
      } else {
        // Still undelivered after the reconcile: they will be sent again, after the history.
        pending.forEach((item) => view.setState(item.id, "queued"));
      }
      plan.messages.forEach((message) => view.add(message));
      notInHistory(history, arrived).forEach((message) =>
        view.add(message, { countUnread: message.sender !== "customer" }),
      );
    });
  }

  async function sync() {
    const run = ++syncRun;
    const arrived = (arrivedDuringSync = []);
    outbox.hold();
    try {
      let history = await fetchHistory(config.helpdesk, sessionId);
      if (outbox.reconcile(deliveredIds(history))) {
        await delay(RECHECK_DELAY_MS);
        history = await fetchHistory(config.helpdesk, sessionId);
        outbox.reconcile(deliveredIds(history));
      }
      if (run !== syncRun) return; // a newer connection is lining up the screen already
      redraw(history, arrived);
    } catch {
      // No history (the helpdesk is unreachable): the live chat still works; keep the screen.
      if (run === syncRun) arrived.forEach((message) => view.add(message, { countUnread: true }));
    } finally {
      if (run === syncRun) {
        arrivedDuringSync = null;
        outbox.release();
      }
    }
  }

  view.greet(greeting());
  outbox.pending().forEach((item) => view.add(customerMessage(item), { state: "queued", atEnd: true }));
  view.mount();
  return { open: view.open, close: view.close };
}
