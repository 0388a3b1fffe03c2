// The socket.io link to Rasa's socketio channel (session_persistence on: the socket joins the
// conversation's room, so pushes from agents reach every open tab of that conversation).

import { io } from "socket.io-client";

// Rasa acknowledges after the bot's whole turn (a KB search, maybe a ticket): allow for a slow one.
const ACK_TIMEOUT_MS = 60000;

/**
 * @param {object} options
 * @param {string} options.server Rasa's base URL
 * @param {string} options.sessionId the conversation id
 * @param {{email: string, signature: string} | null} options.identity sent with every message
 * @param {() => void} options.onReady the room is joined: messages can be sent
 * @param {() => void} options.onOffline the link dropped; socket.io reconnects by itself
 * @param {(message: object) => void} options.onBotMessage one `bot_uttered` payload
 */
export function openConnection({ server, sessionId, identity, onReady, onOffline, onBotMessage }) {
  const socket = io(server, {
    path: "/socket.io",
    // WebSocket first (no CORS preflight, no sticky sessions); long-polling where proxies block it.
    transports: ["websocket", "polling"],
    tryAllTransports: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
  });
  let ready = false;
  // Each connection gets a number, so an acknowledgement from a dropped one is never counted.
  let generation = 0;

  socket.on("connect", () => {
    generation += 1;
    socket.emit("session_request", { session_id: sessionId });
  });
  socket.on("session_confirm", () => {
    ready = true;
    onReady();
  });
  socket.on("disconnect", () => {
    ready = false;
    onOffline();
  });
  socket.on("connect_error", () => {
    if (!ready) onOffline();
  });
  socket.on("bot_uttered", (message) => onBotMessage(message || {}));

  return {
    isReady: () => ready && socket.connected,
    /**
     * Sends one customer message. Resolves when Rasa has handled it (its handler's
     * acknowledgement comes after the bot's answer), rejects when the link drops first.
     */
    send(item) {
      const sentOn = generation;
      return new Promise((resolve, reject) => {
        if (!ready || !socket.connected) {
          reject(new Error("offline"));
          return;
        }
        const onDrop = () => reject(new Error("disconnected"));
        socket.once("disconnect", onDrop);
        socket.timeout(ACK_TIMEOUT_MS).emit(
          "user_uttered",
          {
            message: item.payload,
            session_id: sessionId,
            // Stored with the user event in Rasa's tracker: the history shows the button's
            // title, and a resend after a dropped link can be recognised as already delivered.
            metadata: { client_message_id: item.id, display: item.text, ...(identity ? { identity } : {}) },
          },
          (error) => {
            socket.off("disconnect", onDrop);
            if (sentOn !== generation || !socket.connected) reject(new Error("disconnected"));
            // A timeout on a live link counts as handled: Rasa has the message; a handler that
            // failed never acknowledges, and sending it again would only fail again.
            else resolve({ acknowledged: !error });
          },
        );
      });
    },
    close: () => socket.close(),
  };
}
