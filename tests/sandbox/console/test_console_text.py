"""The console shows what Slack would: every emoji the app writes, and a typed @name as a mention."""

from __future__ import annotations

import re
from pathlib import Path

from tests.sandbox.console.support import ConsoleClient, message_containing

ROOT = Path(__file__).resolve().parents[3]
SHORTCODE = re.compile(r"""(?:^|["'(\s]):([a-z0-9_+-]+):""")
# Sphinx roles in docstrings look like shortcodes; they are not emoji.
NOT_EMOJI = {"class", "func", "meth", "mod"}


def test_every_emoji_shortcode_the_app_writes_has_a_console_emoji() -> None:
    script = (ROOT / "bot/sandbox/console/static/console.js").read_text(encoding="utf-8")
    table = script[script.index("const EMOJI = {") : script.index("};", script.index("const EMOJI = {"))]
    known = set(re.findall(r'"?([a-z0-9_+-]+)"?:\s*"', table))
    used: set[str] = set()
    for folder in ("bot/ui", "bot/app", "bot/jobs", "commands"):
        for source in (ROOT / folder).rglob("*.py"):
            used |= set(SHORTCODE.findall(source.read_text(encoding="utf-8")))
    missing = sorted(used - NOT_EMOJI - known)
    assert "satellite_antenna" in used
    assert missing == [], f"console.js shows these as raw text: {missing}"


async def test_a_typed_at_name_reaches_the_app_as_a_mention(console: ConsoleClient) -> None:
    demo = console.demo
    await console.say(demo.admin.id, demo.general.id, "/pacs assign 1CT1 @rita")
    reply = await console.wait_for(
        demo.admin.id, demo.general.id, message_containing("I don't know which PostDICOM user")
    )
    assert f"<@{demo.member.id}>" in str(reply)
    await console.say(demo.admin.id, demo.general.id, "/pacs share 1CT1 email:x@rita.example")
    await console.wait_for(demo.admin.id, demo.general.id, message_containing("x@rita.example"))
