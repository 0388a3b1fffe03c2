"""Rasa's own command line (`rasa run ...`), with six speed fixes to Rasa 3.6 applied first.

Run with Rasa's Python from the project root, as the launcher does:
    .venv-rasa/bin/python -m channels.rasa_server run --enable-api ...

Each fix was found with py-spy on the Rasa server under load (docs/benchmarks.md, "Speed and
scale"); none changes what Rasa answers or stores.

1. `install_cached_action_validator`: Rasa checks every custom action's reply with
   `jsonschema.validate(reply, schema)`, which first validates the constant schema itself
   against the JSON Schema meta-schema, on every call: two thirds of the Rasa server's time for
   a do-nothing action. The validator is now built once; an invalid reply still goes through
   Rasa's own method, so the error and its message are exactly Rasa's. Each event is also
   checked against its own type's branch of the schema's `oneOf` instead of all 23
   (`events_dispatched_validator`): 1.0 -> 0.13 ms for a KB reply, the same verdicts.
2. `install_event_type_cache`: every event loaded from the tracker store finds its class by
   walking all subclasses of `Event` (`Event.resolve_by_type`), about 30 classes per event,
   per message. The classes are fixed once Rasa is imported, so the lookup is a dict; a name
   the dict does not know goes to Rasa's own method (new subclasses, "topic", errors).
3. `install_sqlite_tracker_tuning`: on SQLite (the one-machine default), Rasa's SQL tracker
   store opens and closes the database file for every read and every save, and commits in
   the default rollback-journal mode, an fsync per commit. It now keeps its connections in a
   pool and runs in WAL mode with synchronous=NORMAL, SQLite's documented setting for WAL: a
   commit survives the server crashing; only a power cut or OS crash can lose the last
   commits. Other databases (PostgreSQL) are untouched.
4. `install_kept_http_sessions`: Rasa opens a new HTTP client session, so a new TCP connection,
   for every call to the action server, and closes it after the reply. Each endpoint now keeps
   one session (Rasa's own, same headers, auth and timeout) per event loop, so calls reuse
   kept-alive connections. aiohttp drops an idle connection after 15 s, well before the action
   server's 120 s, so a connection is never reused as the server closes it.
5. `install_gc_freeze_after_model_load`: Python's full garbage collection walks every object
   the process holds, and with TensorFlow and the model loaded that took 230 ms here, about
   every 20 s under load, stalling every conversation in flight. Once the model is loaded,
   the objects alive then (libraries, the model) are collected once and frozen out of later
   collections (`gc.freeze()`), which then walk only what the conversations create.
   Frozen objects are still freed by reference counting; only a model replaced through the
   HTTP API would keep its cyclic garbage (the launcher restarts the server instead).
6. `install_one_flush_per_bot_turn`: Rasa sends a turn's bot messages one after another and
   then predicts and saves without yielding to the event loop. A channel whose sends only
   queue the message (socket.io: engineio's writer task writes it) would hold them all behind
   that work. The turn's messages are now all queued, then the channel's `flush()` (if it has
   one) runs once; the socket.io channel's waits until engineio's writer has taken them
   (channels/socketio.py). Found by reading the code and timing frames in the server
   (docs/benchmarks.md, "Fix: a turn's socket.io messages leave together" and "Fix: no emit
   task between a turn's socket.io messages").
"""

from __future__ import annotations

from typing import Any

from channels.socket_frame_log import install_socket_frame_log_if_asked

__all__ = [
    "events_dispatched_validator",
    "install_cached_action_validator",
    "install_event_type_cache",
    "install_gc_freeze_after_model_load",
    "install_kept_http_sessions",
    "install_one_flush_per_bot_turn",
    "install_speed_fixes",
    "install_sqlite_tracker_tuning",
    "main",
]


def install_cached_action_validator() -> None:
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    if getattr(RemoteAction._validate_action_result, "cached_validator", False):
        return
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)  # once, instead of once per action call
    is_valid = events_dispatched_validator(schema, validator_class) or validator_class(schema).is_valid
    rasa_validate = RemoteAction._validate_action_result

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        if is_valid(result):
            return True
        return rasa_validate(self, result)  # raises Rasa's ValidationError with Rasa's message

    _validate_action_result.cached_validator = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def events_dispatched_validator(schema: dict[str, Any], validator_class: Any) -> Any | None:
    """`is_valid` for Rasa's action-reply schema, each event checked against its own type's branch.

    The schema says each event is `oneOf` 23 branches, one per event type, each fixing `event` to
    its name (`const`). jsonschema tries every branch of every event (oneOf must find exactly
    one): 1.0 ms for a KB reply of three slots and two messages, 1.2 ms of the Rasa server's
    event loop per KB turn (py-spy). As the names differ, exactly one branch matches an event
    if and only if its own name's branch does, so that branch alone decides; an event whose
    name no branch has is left to the whole schema. None when the schema is not of that shape
    (another Rasa version): the caller then uses the whole schema.
    """
    import copy

    try:
        items = schema["properties"]["events"]["items"]
        names = [branch["properties"]["event"]["const"] for branch in items["oneOf"]]
    except (KeyError, TypeError):
        return None
    if len(set(names)) != len(names):
        return None
    whole = validator_class(schema)
    without_branches = copy.deepcopy(schema)
    del without_branches["properties"]["events"]["items"]["oneOf"]
    outer = validator_class(without_branches)  # everything but the choice of branch
    branch_of = {name: validator_class(branch) for name, branch in zip(names, items["oneOf"], strict=True)}

    def is_valid(result: Any) -> bool:
        if not outer.is_valid(result):
            return False
        for event in result.get("events") or []:
            branch = branch_of.get(event.get("event"))
            if branch is None:
                return whole.is_valid(result)
            if not branch.is_valid(event):
                return False
        return True

    return is_valid


def install_event_type_cache() -> None:
    from rasa.shared.core.events import Event

    if getattr(Event.resolve_by_type, "cached_types", False):
        return
    rasa_resolve = Event.resolve_by_type
    known: dict[str, type | None] = {}  # None: "topic", which Rasa skips on purpose

    def resolve_by_type(type_name: str, default: type | None = None) -> type | None:
        if type_name in known:
            return known[type_name]
        try:
            found = rasa_resolve(type_name)
        except ValueError:  # unknown name: not remembered, Rasa's own answer (the default or the error)
            return rasa_resolve(type_name, default)
        known[type_name] = found
        return found

    resolve_by_type.cached_types = True  # type: ignore[attr-defined]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]


def install_sqlite_tracker_tuning() -> None:
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore

    if getattr(SQLTrackerStore.__init__, "sqlite_tuning", False):
        return
    rasa_init = SQLTrackerStore.__init__

    def set_pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # stored in the file; cheap to repeat
        cursor.execute("PRAGMA synchronous=NORMAL")  # per connection
        cursor.close()

    def __init__(self: SQLTrackerStore, *args: Any, **kwargs: Any) -> None:
        rasa_init(self, *args, **kwargs)
        url = self.engine.url
        if self.engine.dialect.name != "sqlite" or url.database in (None, "", ":memory:"):
            return  # PostgreSQL etc. keep Rasa's engine; so does an in-memory SQLite database
        # Rasa's SQLite engine opens and closes the file for every session (SQLAlchemy 1.4's
        # NullPool): a pool keeps connections open. Rasa uses the store from its event-loop
        # thread; check_same_thread=False only lets the pool hand a connection to another thread
        # when Rasa does, one user at a time (the pool's guarantee).
        self.engine.dispose()
        self.engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False})
        sa.event.listen(self.engine, "connect", set_pragmas)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    __init__.sqlite_tuning = True  # type: ignore[attr-defined]
    SQLTrackerStore.__init__ = __init__  # type: ignore[method-assign]


def install_kept_http_sessions() -> None:
    import asyncio

    from rasa.utils.endpoints import EndpointConfig

    if getattr(EndpointConfig.session, "kept", False):
        return
    rasa_session = EndpointConfig.session

    class KeptSession:
        """What `async with endpoint.session() as session:` enters: the kept session, left open."""

        def __init__(self, session: Any) -> None:
            self.session = session

        async def __aenter__(self) -> Any:
            return self.session

        async def __aexit__(self, *exc_info: Any) -> None:
            return None

    def session(self: EndpointConfig) -> KeptSession:
        loop = asyncio.get_running_loop()  # a session belongs to the loop that made it
        kept_loop, kept = self.__dict__.get("_kept_session", (None, None))
        if kept is None or kept.closed or kept_loop is not loop:
            kept = rasa_session(self)
            self.__dict__["_kept_session"] = (loop, kept)
        return KeptSession(kept)

    session.kept = True  # type: ignore[attr-defined]
    EndpointConfig.session = session  # type: ignore[method-assign,assignment]


def install_gc_freeze_after_model_load() -> None:
    import gc

    from rasa.core import run

    load = run.load_agent_on_start
    if getattr(load, "freezes_gc", False):
        return

    async def load_agent_on_start(*args: Any, **kwargs: Any) -> Any:
        agent = await load(*args, **kwargs)
        gc.collect()
        gc.freeze()
        return agent

    load_agent_on_start.freezes_gc = True  # type: ignore[attr-defined]
    run.load_agent_on_start = load_agent_on_start  # type: ignore[assignment]


def install_one_flush_per_bot_turn() -> None:
    from rasa.core.channels.channel import OutputChannel
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.events import BotUttered, Event
    from rasa.shared.core.trackers import DialogueStateTracker

    if getattr(MessageProcessor._send_bot_messages, "flushes_once", False):
        return

    async def _send_bot_messages(
        events: list[Event], tracker: DialogueStateTracker, output_channel: OutputChannel
    ) -> None:
        """Rasa's own loop (every BotUttered, in order), then one flush for the whole turn."""
        sent = False
        for event in events:
            if isinstance(event, BotUttered):
                await output_channel.send_response(tracker.sender_id, event.message())
                sent = True
        flush = getattr(output_channel, "flush", None)
        if sent and flush is not None:
            await flush()

    _send_bot_messages.flushes_once = True  # type: ignore[attr-defined]
    MessageProcessor._send_bot_messages = staticmethod(_send_bot_messages)  # type: ignore[method-assign,assignment]


def install_speed_fixes() -> None:
    install_cached_action_validator()
    install_kept_http_sessions()
    install_event_type_cache()
    install_sqlite_tracker_tuning()
    install_gc_freeze_after_model_load()
    install_one_flush_per_bot_turn()


def main() -> None:
    install_speed_fixes()
    install_socket_frame_log_if_asked()  # the conversations bench's server-side timing; off by default
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
