"""channels/socketio.py, in the Rasa environment where it runs."""

from __future__ import annotations

import ast

from tests.channels.test_rasa_server import run_in_rasa


def test_a_turns_messages_leave_together_before_rasa_goes_on() -> None:
    # A real python-socketio server with one connected engineio socket; the writer below reads the
    # socket's queue as engineio's own writer task does. Rasa sends a turn's messages (through its
    # own processor, with the server's fix installed), then works on. Another conversation, ready
    # to run a step at every turn of the event loop, must not come between the answer and its
    # "Did this solve it?", and both must be with the writer before Rasa goes on.
    output = run_in_rasa(
        """
        import asyncio, json, time
        import socketio
        from engineio.async_socket import AsyncSocket
        from rasa.core.channels.channel import CollectingOutputChannel
        from rasa.core.processor import MessageProcessor
        from rasa.shared.core.events import BotUttered, SlotSet
        from rasa.shared.core.trackers import DialogueStateTracker
        from channels.rasa_server import install_one_flush_per_bot_turn
        from channels.socketio import WholeMessageOutput

        install_one_flush_per_bot_turn()
        order = []

        events = [
            BotUttered("Here's what I found in **Track your order**:\\n\\n..."),
            SlotSet("kb_query", "where is my order"),
            BotUttered("Did this solve it?", data={"buttons": [{"title": "Yes", "payload": "/affirm"}]}),
        ]

        async def writer(socket):
            while True:
                for packet in await socket.poll():
                    event, data = json.loads(packet.data[packet.data.index("["):])
                    order.append(f"written {event} {data['text'][:9]}")

        async def other_conversation():
            for _ in range(6):
                order.append("other conversation")
                await asyncio.sleep(0)

        async def turn():
            server = socketio.AsyncServer(async_mode="asgi")
            socket = server.eio.sockets["engineio-sid"] = AsyncSocket(server.eio, "engineio-sid")
            socket.connected = True
            sid = server.manager.connect("engineio-sid", "/")
            writing = asyncio.ensure_future(writer(socket))
            await asyncio.sleep(0)  # the writer waits for packets
            tracker = DialogueStateTracker.from_events(sid, [])
            other = asyncio.ensure_future(other_conversation())
            await MessageProcessor._send_bot_messages(events, tracker, WholeMessageOutput(server, "bot_uttered"))
            order.append("rasa goes on")
            await other
            print(order)
            writing.cancel()  # a socket whose writer is gone: the turn goes on after FLUSH_TIMEOUT_S
            started = time.monotonic()
            await MessageProcessor._send_bot_messages(events, tracker, WholeMessageOutput(server, "bot_uttered"))
            print(round(time.monotonic() - started, 2), socket.queue.qsize())
            collecting = CollectingOutputChannel()  # a channel without flush(), as REST's
            await MessageProcessor._send_bot_messages(events, tracker, collecting)
            print([m["text"][:9] for m in collecting.messages], collecting.messages[-1]["buttons"][0]["payload"])

        asyncio.run(turn())
        """
    )
    order_line, stalled, collected = output.strip().splitlines()
    order = ast.literal_eval(order_line)
    written = [i for i, step in enumerate(order) if step.startswith("written")]
    assert [order[i] for i in written] == ["written bot_uttered Here's wh", "written bot_uttered Did this "]
    assert written[1] == written[0] + 1, order  # nothing between the answer and its question
    assert written[1] < order.index("rasa goes on"), order
    assert order.count("other conversation") == 6  # the other conversation did run meanwhile
    waited_s, still_queued = stalled.split()
    assert 0.4 <= float(waited_s) < 5 and still_queued == "2", stalled  # waited, then went on; nothing lost
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
