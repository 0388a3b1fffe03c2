"""The bot's Markdown as Telegram's HTML and Slack's mrkdwn (channels/markup.py)."""

from __future__ import annotations

from channels.markup import slack_mrkdwn, telegram_html

ANSWER = (
    "Here's what I found in **Reset your password**:\n\n"
    "1. Open the app\n- Tap Forgot password\n\n"
    "Read the full article: [Reset your password](https://help.example/articles/reset?x=1&y=2)"
)


def test_telegram_gets_bold_and_links_as_html_and_everything_else_escaped() -> None:
    assert telegram_html(ANSWER) == (
        "Here's what I found in <b>Reset your password</b>:\n\n"
        "1. Open the app\n- Tap Forgot password\n\n"
        'Read the full article: <a href="https://help.example/articles/reset?x=1&amp;y=2">Reset your password</a>'
    )
    # An agent's or a customer's characters never become tags.
    assert telegram_html('a <b>not bold</b> & "quoted"') == 'a &lt;b&gt;not bold&lt;/b&gt; &amp; "quoted"'
    # Marks that do not pair up stay as typed; a link that is not http(s) or mailto stays text.
    assert telegram_html("2 ** 3 and [x](javascript:alert(1))") == "2 ** 3 and [x](javascript:alert(1))"
    assert telegram_html("[**Bold** label](mailto:help@example.com)") == (
        '<a href="mailto:help@example.com">Bold label</a>'
    )


def test_slack_gets_bold_and_links_as_mrkdwn_and_its_control_characters_escaped() -> None:
    assert slack_mrkdwn(ANSWER) == (
        "Here's what I found in *Reset your password*:\n\n"
        "1. Open the app\n- Tap Forgot password\n\n"
        "Read the full article: <https://help.example/articles/reset?x=1&amp;y=2|Reset your password>"
    )
    assert slack_mrkdwn("a <@U123> & b > c") == "a &lt;@U123&gt; &amp; b &gt; c"
    assert slack_mrkdwn("[a|b](https://x.example)") == "<https://x.example|a/b>"
