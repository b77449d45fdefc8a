"""One workspace can never act on another's data: a button carrying another account's order, a
payload naming another team. The app does nothing to the foreign data and says so."""

from __future__ import annotations

import json

import pytest

from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.slack import deliver
from bot.ui.orders import ASSIGN_ACTION, FLAG_ACTION, MORE_ACTION, SHARE_ACTION
from bot.ui.values import OrderRef
from tests.app.harness import Scenario, eventually
from tests.security.conftest import OTHER_ACCOUNT_KEY, foreign_order


def postdicom_frames(emulator: PostDicomEmulator) -> int:
    return sum(emulator.stats.frames.values())


@pytest.mark.parametrize(
    ("action_id", "verb"),
    [(SHARE_ACTION, "share"), (FLAG_ACTION, "flag"), (ASSIGN_ACTION, "assign"), (MORE_ACTION, "delete")],
)
async def test_a_button_carrying_another_accounts_order_does_nothing_and_says_so(
    world: Scenario, emulator: PostDicomEmulator, action_id: str, verb: str
) -> None:
    await world.command(world.demo.member, "search mod:CT")
    card = await world.ephemeral(world.demo.member, "Search results")
    order = foreign_order(emulator)
    flags_before, users_before = dict(order.flags), list(order.assigned_users)
    encoded = OrderRef(order.uuid, order.institution_uuid).encode(verb)
    # A forged menu choice arrives as Slack reports a selected option, whatever the menu offered.
    value: object = (
        {"selected_option": {"text": {"type": "plain_text", "text": verb}, "value": encoded}}
        if action_id == MORE_ACTION
        else encoded
    )
    before = len(world.slack.state.ephemeral_for(world.demo.member))

    await world.click(world.demo.member, action_id, message=card, value=value)

    def answered() -> list[str] | None:
        replies = world.slack.state.ephemeral_for(world.demo.member)[before:]
        return [reply.text + json.dumps(reply.blocks) for reply in replies] or None

    replies = await eventually(answered, what="the app's refusal")
    # Exactly one answer, and it is the refusal: PostDICOM would not show this account the order.
    assert len(replies) == 1, replies
    assert replies[0].startswith(":x: PostDICOM refused to do that (GetPatientOrderProperties)."), replies
    # Nothing of the other clinic's changed, was shared or deleted, and nothing of it was shown.
    assert not emulator.state.shares_of(OTHER_ACCOUNT_KEY)
    assert order.flags == flags_before
    assert list(order.assigned_users) == users_before
    assert not order.deleted
    assert all(order.patient_id not in reply and order.accession_number not in reply for reply in replies)
    modals = world.slack.state.open_views(world.demo.member)
    assert all(order.uuid not in json.dumps(view.definition) for view in modals)


async def test_a_command_naming_a_team_that_never_installed_the_app_reaches_no_account(
    world: Scenario, emulator: PostDicomEmulator
) -> None:
    # Correctly signed (only Slack can sign) but for another team: the partner workspace of the
    # Slack Connect channel, which never installed the app and has no PostDICOM connection.
    demo = world.demo
    payload = world.slack.payloads.slash_command(
        user=demo.partner, channel=demo.partner_channel, text="search mod:CT"
    )
    payload.payload["team_id"] = demo.partner_team.id
    frames = postdicom_frames(emulator)
    answer = await deliver(world.app.events_url, payload.signed(world.signing_secret))
    assert answer.status == 200
    reply = await world.ephemeral(demo.partner, "did not come from a member of the workspace")
    assert "Search results" not in reply.text
    assert postdicom_frames(emulator) == frames
    await refused_and_audited(world, "installation_team_mismatch")


async def refused_and_audited(world: Scenario, code: str) -> None:
    """The refusal left an audit entry naming how the teams disagreed."""
    entries = await world.app.services.store.audit.recent(world.workspace, limit=20)
    assert any(entry.action == "request.refused" and entry.error_code == code for entry in entries), entries


@pytest.mark.parametrize(
    ("forgery", "code"),
    [
        ("team", "installation_team_mismatch"),
        ("user_team", "user_team_mismatch"),
        ("both", "installation_team_mismatch"),
    ],
)
async def test_a_button_whose_teams_disagree_is_refused_and_logged(
    world: Scenario, emulator: PostDicomEmulator, forgery: str, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    await world.command(world.demo.member, "search mod:CT")
    card = await world.ephemeral(world.demo.member, "Search results")
    payload = world.slack.payloads.block_actions(user=world.demo.member, action_id=SHARE_ACTION, message=card)
    if forgery in ("team", "both"):
        payload.payload["team"] = {"id": "T0FORGED01", "domain": "forged"}
    if forgery in ("user_team", "both"):
        payload.payload["user"] = {**payload.payload["user"], "team_id": "T0FORGED01"}
    frames, shares = postdicom_frames(emulator), len(emulator.state.shares)
    answer = await deliver(world.app.events_url, payload.signed(world.signing_secret))
    assert answer.status == 200
    await world.ephemeral(world.demo.member, "did not come from a member of the workspace")
    assert postdicom_frames(emulator) == frames
    assert len(emulator.state.shares) == shares
    assert any(code in record.getMessage() for record in caplog.records if record.levelname == "WARNING")
    await refused_and_audited(world, code)
