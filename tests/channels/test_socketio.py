"""channels/socketio.py, in the Rasa environment where it runs."""

from __future__ import annotations

from tests.channels.test_rasa_server import run_in_rasa


def test_a_turns_messages_leave_together_before_rasa_goes_on() -> None:
    # engineio queues an emitted event for the connection's writer task. Rasa sends a turn's
    # messages (here through its own processor, with the server's fix installed), then works on
    # without yielding. Another conversation's work, ready to run, must not come between the
    # answer and its "Did this solve it?", and both must be with the writer when Rasa goes on.
    output = run_in_rasa(
        """
        import asyncio
        from rasa.core.channels.channel import CollectingOutputChannel
        from rasa.core.processor import MessageProcessor
        from rasa.shared.core.events import BotUttered, SlotSet
        from rasa.shared.core.trackers import DialogueStateTracker
        from channels.rasa_server import install_one_flush_per_bot_turn
        from channels.socketio import WholeMessageOutput

        install_one_flush_per_bot_turn()
        order = []

        class Server:
            def __init__(self):
                self.queue = asyncio.Queue()

            async def emit(self, event, data, room=None):
                order.append("emit " + data["text"][:9])
                self.queue.put_nowait((event, room, data))

            async def writer(self):
                while True:
                    event, room, data = await self.queue.get()
                    order.append("written " + data["text"][:9])

        events = [
            BotUttered("Here's what I found in **Track your order**:\\n\\n..."),
            SlotSet("kb_query", "where is my order"),
            BotUttered("Did this solve it?", data={"buttons": [{"title": "Yes", "payload": "/affirm"}]}),
        ]

        async def turn():
            server = Server()
            writer = asyncio.ensure_future(server.writer())
            await asyncio.sleep(0)  # the writer waits for events
            tracker = DialogueStateTracker.from_events("customer-sid", [])
            asyncio.get_running_loop().call_soon(order.append, "other conversation")
            await MessageProcessor._send_bot_messages(events, tracker, WholeMessageOutput(server, "bot_uttered"))
            print(order)
            writer.cancel()
            collecting = CollectingOutputChannel()  # a channel without flush(), as REST's
            await MessageProcessor._send_bot_messages(events, tracker, collecting)
            print([m["text"][:9] for m in collecting.messages], collecting.messages[-1]["buttons"][0]["payload"])

        asyncio.run(turn())
        """
    )
    order, collected = output.strip().splitlines()
    assert order == str(
        ["emit Here's wh", "emit Did this ", "other conversation", "written Here's wh", "written Did this "]
    )
    # Rasa's own channels are untouched: REST's splits the answer at its blank line, as before.
    assert collected == str(["Here's wh", "...", "Did this "]) + " /affirm"


def test_given_a_redis_url_the_channel_shares_its_rooms_through_redis() -> None:
    # credentials.yml hands the channel ${SUPPORT_REDIS_URL}, empty on one server.
    output = run_in_rasa(
        """
        import yaml
        from channels.socketio import SocketIOInput

        written = yaml.safe_load(open("credentials.yml"))["channels.socketio.SocketIOInput"]
        print(written["redis_url"])
        for redis_url in ("redis://127.0.0.1:6379/0", "", None):
            channel = SocketIOInput.from_credentials({**written, "redis_url": redis_url})
            channel.blueprint(lambda message: None)
            manager = channel.sio.manager
            print(type(manager).__name__, manager.server is channel.sio, getattr(manager, "channel", "-"))
        """
    )
    assert output.strip().splitlines() == [
        "${SUPPORT_REDIS_URL}",
        "AsyncRedisManager True kestrel-socketio",
        "AsyncManager True -",
        "AsyncManager True -",
    ]
