"""channels/socketio.py, in the Rasa environment where it runs."""

from __future__ import annotations

from tests.channels.test_rasa_server import run_in_rasa


def test_each_message_is_handed_to_the_connections_writer_before_rasa_goes_on() -> None:
    # engineio queues an emitted event for the connection's writer task; Rasa emits a turn's
    # messages back to back, then works on without yielding (here: nothing awaited after them).
    output = run_in_rasa(
        """
        import asyncio
        from channels.socketio import WholeMessageOutput

        class Server:
            def __init__(self):
                self.queue, self.written = asyncio.Queue(), []

            async def emit(self, event, data, room=None):
                self.queue.put_nowait((event, room, data))

            async def writer(self):
                while True:
                    self.written.append(await self.queue.get())

        async def turn():
            server = Server()
            writer = asyncio.ensure_future(server.writer())
            await asyncio.sleep(0)  # the writer waits for events
            output = WholeMessageOutput(server, "bot_uttered")
            await output.send_text_message("customer-sid", "Here's what I found in **Track your order**:\\n\\n...")
            await output.send_text_with_buttons(
                "customer-sid", "Did this solve it?", [{"title": "Yes, that solved it", "payload": "/affirm"}]
            )
            print(len(server.written), [data["text"] for _, _, data in server.written])
            print(server.written[-1][0], server.written[-1][1], server.written[-1][2]["quick_replies"][0]["payload"])
            writer.cancel()

        asyncio.run(turn())
        """
    )
    written, last = output.strip().splitlines()
    assert written.startswith("2 ")  # both already with the writer, not waiting behind Rasa's next step
    assert "Did this solve it?" in written
    assert last == "bot_uttered customer-sid /affirm"


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
