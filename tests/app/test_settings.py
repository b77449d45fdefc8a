"""Settings scenarios: /pacs settings (admins), its modal, and allowed channels enforced by the router."""

from __future__ import annotations

import json

from bot.sandbox.postdicom import PostDicomEmulator
from bot.store import Audience, Permission, PhiDisplay, WorkspaceSettings
from bot.store.audit import AuditOutcome
from bot.ui import settings as ui
from tests.app.harness import Scenario, eventually
from tests.app.pacs_world import audit_has, order_where, rendered, save_settings


def chosen(**overrides: object) -> dict[str, dict[str, object]]:
    values: dict[str, dict[str, object]] = {
        ui.PHI: {ui.VALUE: "full"},
        ui.EXPIRY: {ui.VALUE: "14"},
        ui.EMAIL_AUDIENCE: {ui.VALUE: "admins"},
        ui.DELETE_AUDIENCE: {ui.VALUE: "everyone"},
        ui.SUBSCRIBE_AUDIENCE: {ui.VALUE: "admins"},
        ui.CHANNELS: {ui.VALUE: []},
    }
    values.update({key: {ui.VALUE: value} for key, value in overrides.items()})
    return values


async def test_members_are_politely_refused(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "settings")
    message = await pacs.ephemeral(pacs.demo.member, "Only workspace admins and owners can change")
    assert "Ask one of them" in message.text
    assert not pacs.slack.state.open_views(pacs.demo.member)


async def test_the_modal_shows_the_current_settings(pacs: Scenario) -> None:
    await save_settings(
        pacs,
        default_share_expiry_days=21,
        delete=Permission(audience=Audience.USERGROUP, usergroup_id="S0READERS"),
        allowed_channels=(pacs.demo.general.id,),
    )
    await pacs.command(pacs.demo.admin, "settings")
    modal = await pacs.modal(pacs.demo.admin, ui.SETTINGS_CALLBACK)
    by_block = {block["block_id"]: block["element"] for block in modal.blocks if block["type"] == "input"}
    assert by_block[ui.PHI]["initial_option"]["value"] == "initials"
    assert by_block[ui.EXPIRY]["initial_value"] == "21"
    assert by_block[ui.DELETE_AUDIENCE]["initial_option"]["value"] == "usergroup"
    assert by_block[ui.DELETE_GROUP]["initial_value"] == "S0READERS"
    assert by_block[ui.CHANNELS]["initial_conversations"] == [pacs.demo.general.id]


async def test_saving_persists_and_later_cards_follow_the_phi_setting(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    order = order_where(emulator, lambda item: item.accession_number.startswith("ACC"))
    family = order.patient_name.split("^")[0]
    await pacs.command(pacs.demo.member, f"search acc:{order.accession_number}")
    before = await pacs.ephemeral(pacs.demo.member, "Search results")
    assert family not in rendered(before)
    readers = pacs.slack.state.add_usergroup(pacs.demo.team, "readers", "Readers", pacs.demo.admin)
    await pacs.command(pacs.demo.admin, "settings")
    modal = await pacs.modal(pacs.demo.admin, ui.SETTINGS_CALLBACK)
    await pacs.submit(
        modal,
        chosen(**{ui.DELETE_AUDIENCE: "usergroup", ui.DELETE_GROUP: f"<!subteam^{readers.id}|@readers>"}),
    )
    await pacs.ephemeral(pacs.demo.admin, "Settings saved")
    saved = await pacs.app.services.store.workspace_settings.get(pacs.workspace)
    assert saved == WorkspaceSettings(
        phi_display=PhiDisplay.FULL,
        default_share_expiry_days=14,
        email_share=Permission(audience=Audience.ADMINS),
        delete=Permission(audience=Audience.USERGROUP, usergroup_id=readers.id),
        subscribe=Permission(audience=Audience.ADMINS),
    )
    await audit_has(pacs, "settings.update", AuditOutcome.SUCCEEDED)
    await pacs.command(pacs.demo.member, f"search acc:{order.accession_number}")
    await eventually(
        lambda: family in rendered(pacs.slack.state.ephemeral_for(pacs.demo.member)[-1]),
        what="a card with the name",
    )


async def test_a_usergroup_without_an_id_and_a_bad_expiry_show_on_the_form(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.admin, "settings")
    modal = await pacs.modal(pacs.demo.admin, ui.SETTINGS_CALLBACK)
    await pacs.submit(
        modal, chosen(**{ui.EXPIRY: "0", ui.EMAIL_AUDIENCE: "usergroup", ui.EMAIL_GROUP: "readers"})
    )
    errors = await eventually(lambda: modal.definition.get("errors"), what="field errors")
    assert set(errors) == {ui.EXPIRY, ui.EMAIL_GROUP}
    assert await pacs.app.services.store.workspace_settings.get(pacs.workspace) == WorkspaceSettings()


async def test_a_submission_by_a_member_is_refused(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.admin, "settings")
    modal = await pacs.modal(pacs.demo.admin, ui.SETTINGS_CALLBACK)
    await pacs.submit(modal, chosen(), user=pacs.demo.member)
    errors = await eventually(lambda: modal.definition.get("errors"), what="field errors")
    assert "Only workspace admins" in errors[ui.PHI]
    assert await pacs.app.services.store.workspace_settings.get(pacs.workspace) == WorkspaceSettings()
    await audit_has(pacs, "settings.update", AuditOutcome.DENIED)


async def test_allowed_channels_are_enforced_for_every_subcommand(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.admin, "settings")
    modal = await pacs.modal(pacs.demo.admin, ui.SETTINGS_CALLBACK)
    await pacs.submit(modal, chosen(**{ui.CHANNELS: [pacs.demo.reading_room.id]}))
    await pacs.ephemeral(pacs.demo.admin, "Settings saved")
    calls_before = emulator.stats_snapshot()
    for text in ("search doe", "folder list", "nodes", "order new", "delete ACC0000001", "link a b", "help"):
        await pacs.command(pacs.demo.member, text, channel=pacs.demo.general)
        message = await pacs.ephemeral(pacs.demo.member, "not enabled in this channel")
        assert pacs.demo.reading_room.id in message.text
        pacs.slack.state.delete_message(message)
    assert not pacs.slack.state.open_views(pacs.demo.member)
    assert json.dumps(emulator.stats_snapshot()["frames"]) == json.dumps(calls_before["frames"])
    await audit_has(pacs, "pacs.channel_not_allowed", AuditOutcome.DENIED)
    await pacs.command(pacs.demo.member, "nodes", channel=pacs.demo.reading_room)
    await pacs.ephemeral(pacs.demo.member, "CT_ROOM1")
    # Admin subcommands stay reachable everywhere, so nobody can be locked out.
    await pacs.command(pacs.demo.admin, "settings", channel=pacs.demo.general)
    await pacs.modal(pacs.demo.admin, ui.SETTINGS_CALLBACK)


def test_a_usergroup_is_read_from_an_id_or_a_pasted_mention() -> None:
    assert ui.usergroup_id("S0123ABCD") == "S0123ABCD"
    assert ui.usergroup_id(" s0123abcd ") == "S0123ABCD"
    assert ui.usergroup_id("<!subteam^S0123ABCD|@readers>") == "S0123ABCD"
    assert ui.usergroup_id("readers") is None
    assert ui.usergroup_id("") is None


async def test_admins_cap_how_long_share_links_last(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.admin, "settings")
    modal = await pacs.modal(pacs.demo.admin, ui.SETTINGS_CALLBACK)
    await pacs.submit(modal, chosen(**{ui.EXPIRY: "60", ui.LONGEST: "30"}), user=pacs.demo.admin)
    errors = await eventually(lambda: modal.definition.get("errors"), what="field errors")
    assert set(errors) == {ui.EXPIRY}, "a default beyond the maximum is refused on the form"
    await pacs.submit(modal, chosen(**{ui.EXPIRY: "14", ui.LONGEST: "30"}), user=pacs.demo.admin)
    await pacs.ephemeral(pacs.demo.admin, "Settings saved")
    saved = await pacs.app.services.store.workspace_settings.get(pacs.workspace)
    assert saved.max_share_expiry_days == 30
    shares_before = len(emulator.state.shares_of())
    for too_long in ("expires:5y", "expires:31d", "expires:3650d"):
        await pacs.command(pacs.demo.member, f"share 1CT1 {too_long}")
        await pacs.ephemeral(pacs.demo.member, "30 days at most in this workspace")
    assert len(emulator.state.shares_of()) == shares_before, "nothing was shared"
    await pacs.command(pacs.demo.member, "folder share Cases link expires:1y")
    await pacs.ephemeral(pacs.demo.member, "30 days at most in this workspace")
    await pacs.command(pacs.demo.member, "share 1CT1 expires:30d")
    await eventually(lambda: len(emulator.state.shares_of()) == shares_before + 1, what="the share")


async def test_a_user_group_slack_does_not_know_is_refused_on_the_form(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.admin, "settings")
    modal = await pacs.modal(pacs.demo.admin, ui.SETTINGS_CALLBACK)
    await pacs.submit(modal, chosen(**{ui.EMAIL_AUDIENCE: "usergroup", ui.EMAIL_GROUP: "S0NOSUCH1"}))
    errors = await eventually(lambda: modal.definition.get("errors"), what="field errors")
    assert set(errors) == {ui.EMAIL_GROUP}
    assert "no user group S0NOSUCH1" in errors[ui.EMAIL_GROUP]
    saved = await pacs.app.services.store.workspace_settings.get(pacs.workspace)
    assert saved.email_share.audience is Audience.EVERYONE, "nothing saved"


async def test_refusals_name_a_setting_that_exists(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.admin, "settings")
    modal = await pacs.modal(pacs.demo.admin, ui.SETTINGS_CALLBACK)
    labels = {block["label"]["text"] for block in modal.blocks if block["type"] == "input"}
    await pacs.command(pacs.demo.member, "delete 1CT1")
    refusal = await pacs.ephemeral(pacs.demo.member, "Only workspace admins and owners may delete")
    assert "*Who may delete orders and folders*" in refusal.text
    await save_settings(pacs, email_share=Permission(audience=Audience.NOBODY))
    await pacs.command(pacs.demo.member, "share 1CT1 email:a@example.org")
    refusal = await pacs.ephemeral(pacs.demo.member, "Nobody may share")
    assert "*Who may share by e-mail*" in refusal.text
    assert {"Who may delete orders and folders", "Who may share by e-mail"} <= labels
    await pacs.command(pacs.demo.member, "settings")
    refusal = await pacs.ephemeral(pacs.demo.member, "Only workspace admins and owners can change")
    assert "who may" not in refusal.text.lower(), "no setting lets others change the settings"
