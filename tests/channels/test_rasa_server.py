"""channels/rasa_server.py: Rasa 3.6 with its speed fixes gives the same answers and keeps the same data.

These run in the Rasa environment (.venv-rasa), where the code runs in production.
"""

from __future__ import annotations

import subprocess
import textwrap

from tests.conftest import PROJECT_ROOT, rasa_env

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"


def run_in_rasa(script: str, *args: str) -> str:
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", textwrap.dedent(script), *args],
        cwd=PROJECT_ROOT,
        env=rasa_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


SETUP = """
    from jsonschema import ValidationError, validators
    from rasa.core.actions.action import RemoteAction
    from channels.rasa_server import install_cached_action_validator

    action = RemoteAction("action_answer_from_kb", None)
    valid = {"events": [{"event": "slot", "name": "kb_query", "value": "refund"}],
             "responses": [{"text": "Refunds take 5 days.", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]}
    invalid = {"events": [{"event": "slot", "value": "no name"}], "responses": []}

    def rasa_error(reply):
        try:
            action._validate_action_result(reply)
        except ValidationError as error:
            return error.message
        return None
"""


def test_valid_replies_pass_without_checking_the_schema_again() -> None:
    out = run_in_rasa(
        SETUP
        + """
    install_cached_action_validator()
    install_cached_action_validator()  # a second install is a no-op, not a second wrapper
    checks = []
    cls = validators.validator_for(RemoteAction.action_response_format_spec())
    cls.check_schema = classmethod(lambda c, schema: checks.append(1))
    print(all(action._validate_action_result(valid) for _ in range(50)), len(checks))
    """
    )
    assert out.split() == ["True", "0"]


def test_an_invalid_reply_fails_with_exactly_rasas_error() -> None:
    out = run_in_rasa(
        SETUP
        + """
    before = rasa_error(invalid)
    install_cached_action_validator()
    after = rasa_error(invalid)
    print(before == after, before is not None, "Failed to validate Action server response" in after)
    """
    )
    assert out.split() == ["True", "True", "True"]


def test_checking_each_event_against_its_own_branch_judges_every_reply_as_the_whole_schema() -> None:
    # Every kind of Rasa event, as Rasa writes it, then broken in several ways: the dispatched
    # check and jsonschema on the whole schema must agree on each reply.
    out = run_in_rasa(
        SETUP
        + """
    import copy, datetime
    from rasa.shared.core import events as e
    from channels.rasa_server import events_dispatched_validator

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    whole, dispatched = cls(schema).is_valid, events_dispatched_validator(schema, cls)
    written = [
        e.SlotSet("kb_query", "refund"), e.SlotSet("kb_shown", ["a", "b"]), e.UserUttered("hi", {"name": "greet"}),
        e.ActionExecuted("action_listen"), e.BotUttered("x", {"buttons": [{"title": "t", "payload": "/p"}]}),
        e.ReminderScheduled("remind", datetime.datetime(2026, 1, 1)), e.ReminderCancelled(name="r"),
        e.ActiveLoop("ticket_form"), e.ActiveLoop(None), e.Restarted(), e.AllSlotsReset(), e.FollowupAction("x"),
        e.SessionStarted(), e.ConversationPaused(), e.ConversationResumed(), e.UserUtteranceReverted(),
        e.ActionReverted(), e.LoopInterrupted(True), e.ActionExecutionRejected("a"), e.AgentUttered("x"),
        e.StoryExported(), e.DefinePrevUserUtteredFeaturization(False),
        e.EntitiesAdded([{"entity": "email", "value": "a@b.c"}]),
    ]
    replies = []
    for event in written:
        good = event.as_dict()
        replies.append({"events": [good], "responses": []})
        for key in [k for k in good if k != "event"]:
            replies.append({"events": [{k: v for k, v in good.items() if k != key}]})  # a field missing
            replies.append({"events": [{**good, key: 12345}]})  # a field of another type
            replies.append({"events": [{**good, key: None}]})
        for other in ("slot", "user", "bot", "no_such_event", 7):
            replies.append({"events": [{**good, "event": other}]})  # another event's name
    replies += [copy.deepcopy(valid), invalid, {"events": None}, {"events": [3]}, {"responses": [{"text": 5}]},
                {"events": [{"event": "slot", "name": "a", "value": 1}, {"event": "bogus"}]}, [], "reply", {}]
    verdicts = [(whole(r), dispatched(r)) for r in replies]
    print(len(replies), sum(a == b for a, b in verdicts), sum(a for a, _ in verdicts), sum(not a for a, _ in verdicts))
    """
    )
    total, agree, valid, invalid = map(int, out.split())
    assert agree == total and valid > 30 and invalid > 50, out


def test_event_classes_resolve_as_in_rasa_and_unknown_names_still_fail() -> None:
    out = run_in_rasa(
        """
    from rasa.shared.core.events import Event, UserUttered
    from rasa.shared.utils.common import all_subclasses
    from channels.rasa_server import install_event_type_cache

    names = sorted({cls.type_name for cls in all_subclasses(Event)}) + ["topic"]
    before = {name: Event.resolve_by_type(name) for name in names}
    install_event_type_cache()
    install_event_type_cache()
    after = {name: Event.resolve_by_type(name) for name in names}
    again = {name: Event.resolve_by_type(name) for name in names}  # now from the cache
    try:
        Event.resolve_by_type("no_such_event")
        error = None
    except ValueError as e:
        error = str(e)
    fallback = Event.resolve_by_type("no_such_event", UserUttered)
    print(len(names) > 20, before == after == again, error, fallback is UserUttered)
    """
    )
    assert out.strip() == "True True Unknown event name 'no_such_event'. True"


def test_the_sqlite_tracker_store_pools_connections_in_wal_mode_and_keeps_conversations(tmp_path) -> None:
    db = tmp_path / "tracker.db"
    script = f"""
    import asyncio, sqlite3
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered, ActionExecuted, BotUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from channels.rasa_server import install_sqlite_tracker_tuning

    install_sqlite_tracker_tuning()
    domain = Domain.empty()

    async def main():
        store = SQLTrackerStore(domain, dialect="sqlite", db="{db}")
        tracker = DialogueStateTracker.from_events("alice", [UserUttered("where is my order")])
        await store.save(tracker)
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(BotUttered("It ships today."))
        await store.save(tracker)
        reopened = SQLTrackerStore(domain, dialect="sqlite", db="{db}")  # as after a restart
        loaded = await reopened.retrieve("alice")
        memory = SQLTrackerStore(domain, dialect="sqlite", db=None)  # in-memory stays as Rasa made it
        await memory.save(tracker)
        from_memory = await memory.retrieve("alice")
        mode = sqlite3.connect("{db}").execute("PRAGMA journal_mode").fetchone()[0]
        print(type(store.engine.pool).__name__, mode,
              [e.as_dict()["event"] for e in loaded.events] == [e.as_dict()["event"] for e in tracker.events],
              len(loaded.events), type(memory.engine.pool).__name__ != "QueuePool", len(from_memory.events))

    asyncio.run(main())
    """
    out = run_in_rasa(script)
    assert out.split() == ["QueuePool", "wal", "True", "3", "True", "3"]


def test_action_server_calls_reuse_one_connection_and_errors_stay_rasas() -> None:
    out = run_in_rasa(
        """
    import asyncio
    from aiohttp import web
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig
    from channels.rasa_server import install_kept_http_sessions

    install_kept_http_sessions()
    peers = set()

    async def webhook(request):
        peers.add(request.transport.get_extra_info("peername"))
        if request.query.get("fail"):
            return web.Response(status=500, text="boom")
        body = await request.json()
        return web.json_response({"echo": body["n"], "token": request.query.get("token")})

    async def main():
        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", token="t0k")
        replies = [await endpoint.request(json={"n": n}) for n in range(5)]
        try:
            await endpoint.request(json={"n": 5}, params={"fail": "1"})
            error = None
        except ClientResponseError as e:
            error = e.status
        again = await endpoint.request(json={"n": 6})
        print([r["echo"] for r in replies] + [again["echo"]], replies[0]["token"], error, len(peers))
        await runner.cleanup()

    asyncio.run(main())
    """
    )
    assert out.split() == ["[0,", "1,", "2,", "3,", "4,", "6]", "t0k", "500", "1"]


def test_objects_alive_once_the_model_is_loaded_are_frozen_out_of_full_collections() -> None:
    out = run_in_rasa(
        """
    import asyncio, gc
    from rasa.core import run
    from channels.rasa_server import install_gc_freeze_after_model_load

    calls = []

    async def rasas_loader(model_path, endpoints, remote_storage, app, loop):
        calls.append((model_path, app))
        return "the agent"

    run.load_agent_on_start = rasas_loader
    install_gc_freeze_after_model_load()
    install_gc_freeze_after_model_load()  # twice: still one wrapper
    frozen_before = gc.get_freeze_count()
    agent = asyncio.run(run.load_agent_on_start("models/", None, None, "app", None))
    print(agent, calls == [("models/", "app")], frozen_before == 0, gc.get_freeze_count() > 10000)
    """
    )
    assert out.strip() == "the agent True True True"


def test_the_launcher_starts_rasa_through_it() -> None:
    from bot.config import Settings
    from bot.launcher import services

    (rasa,) = [s for s in services(Settings()) if s.name == "rasa"]
    assert rasa.argv[1:4] == ["-m", "channels.rasa_server", "run"]
    assert rasa.argv[0].endswith(".venv-rasa/bin/python")
