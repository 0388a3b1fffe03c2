// The console's only script: new messages appear without reloading, by polling the JSON API
// with the session cookie. Text is inserted with textContent, never as HTML.
const Console = {
  async fetchJSON(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return response.json();
  },

  followTranscript(intervalMs) {
    const list = document.getElementById("transcript");
    if (!list) return;
    const reference = list.dataset.reference;
    setInterval(async () => {
      try {
        const ticket = await Console.fetchJSON(`/api/tickets/${encodeURIComponent(reference)}`);
        const shown = Number(list.dataset.count);
        for (const line of ticket.transcript.slice(shown)) {
          const item = document.createElement("li");
          item.className = line.sender;
          const who = document.createElement("b");
          who.textContent = line.sender;
          const when = document.createElement("time");
          when.textContent = line.at;
          const text = document.createElement("p");
          text.textContent = line.text;
          item.append(who, " ", when, text);
          list.append(item);
        }
        list.dataset.count = String(ticket.transcript.length);
        document.getElementById("status").textContent = ticket.status.replace("_", " ");
      } catch (error) {
        console.warn("could not refresh the ticket", error);
      }
    }, intervalMs);
  },

  followLiveChat(intervalMs) {
    const list = document.getElementById("live");
    if (!list) return;
    const draw = async () => {
      try {
        const messages = await Console.fetchJSON(`/api/handoffs/${list.dataset.handoff}/messages`);
        list.replaceChildren(...messages.map((m) => {
          const item = document.createElement("li");
          item.className = m.sender;
          const who = document.createElement("b");
          who.textContent = m.sender;
          const text = document.createElement("p");
          text.textContent = m.text;
          item.append(who, text);
          return item;
        }));
      } catch (error) {
        console.warn("could not refresh the live chat", error);
      }
    };
    draw();
    setInterval(draw, intervalMs);
  },

  keepOnDuty(intervalMs) {
    const token = document.querySelector('meta[name="csrf-token"]').content;
    setInterval(() => fetch("/api/presence", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify({ available: true }),
    }), intervalMs);
  },

  refreshQueue(intervalMs) {
    // The queue page is server-rendered; reloading it keeps SLA countdowns and new tickets current.
    setInterval(() => {
      if (!document.querySelector("input:focus, select:focus")) window.location.reload();
    }, intervalMs);
  },
};
