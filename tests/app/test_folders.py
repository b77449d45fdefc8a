"""Folder scenarios: /pacs folder list|create|delete|add|remove|view|share, the card's folder verb."""

from __future__ import annotations

import json
from datetime import date, timedelta

from bot.sandbox.postdicom import CASES_FOLDER_UUID, MAIN_INSTITUTION_UUID, PostDicomEmulator
from bot.sandbox.postdicom.seed import BEN_UUID, RADIOLOGISTS_GROUP_UUID
from bot.store import Audience, Permission
from bot.store.audit import AuditOutcome
from bot.ui.confirm import DISMISS_ACTION
from bot.ui.folders import FOLDER_DELETE_ACTION
from bot.ui.orders import MORE_ACTION, PICK_ACTION
from tests.app.harness import Scenario, eventually
from tests.app.pacs_world import (
    account,
    audit_has,
    folder_named,
    option_value,
    order_where,
    posted,
    rendered,
    save_settings,
)


async def test_list_shows_the_tree_with_nested_paths(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "folder list")
    message = await pacs.ephemeral(pacs.demo.member, "Folders")
    text = rendered(message)
    for name in ("Cases", "2025", "Follow-up", "Research", "Trial A", "Cases worth keeping"):
        assert name in text
    # Children come right after their parent, indented.
    assert text.index("*Cases*") < text.index("*2025*") < text.index("*Follow-up*")
    assert "search folder:" in text


async def test_list_under_a_path_shows_only_that_subtree(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "folder list research")
    text = rendered(await pacs.ephemeral(pacs.demo.member, "Folders in Research"))
    assert "Trial A" in text
    assert "Follow-up" not in text


async def test_create_makes_the_missing_levels_and_refreshes_the_cached_tree(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.member, "folder list")
    await pacs.ephemeral(pacs.demo.member, "Folders")
    await pacs.command(pacs.demo.member, 'folder create "Research/Trial B/Site 1" First site of trial B')
    message = await pacs.ephemeral(pacs.demo.member, "Created")
    assert "Research/Trial B/Site 1" in message.text
    assert "2 new levels" in rendered(message)
    site = folder_named(emulator, "Research/Trial B/Site 1")
    assert site is not None
    assert site.description == "First site of trial B"
    research = [folder for folder in account(emulator).folders.values() if folder.name == "Research"]
    assert len(research) == 1, "the existing level is reused"
    _, folders = await audit_has(pacs, "folder.create", AuditOutcome.SUCCEEDED)
    assert folders == (site.uuid,)
    await pacs.command(pacs.demo.member, "folder list research")
    listing = await pacs.ephemeral(pacs.demo.member, "Folders in Research")
    assert "*Site 1*" in rendered(listing)


async def test_create_of_an_existing_path_changes_nothing(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    before = len(account(emulator).folders)
    await pacs.command(pacs.demo.member, "folder create cases/2025")
    await pacs.ephemeral(pacs.demo.member, "already exists")
    assert len(account(emulator).folders) == before


async def test_create_refused_by_postdicom_says_so_and_is_audited(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    emulator.faults.set(emulator.account_key, error_rate=1.0, error_targets=["CREATE_FOLDER"])
    await pacs.command(pacs.demo.member, "folder create Audits")
    message = await pacs.ephemeral(pacs.demo.member, ":x:")
    assert "PostDICOM" in message.text
    assert folder_named(emulator, "Audits") is None
    await audit_has(pacs, "folder.create", AuditOutcome.FAILED)


async def test_delete_asks_then_deletes_for_an_admin(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    trial = folder_named(emulator, "Research/Trial A")
    await pacs.command(pacs.demo.admin, "folder delete research/trial a")
    question = await pacs.ephemeral(pacs.demo.admin, "Delete the folder")
    assert "Research/Trial A" in rendered(question)
    assert '"confirm"' in json.dumps(question.blocks), "Slack's confirm dialog guards the button"
    assert folder_named(emulator, "Research/Trial A") is not None
    await pacs.click(pacs.demo.admin, FOLDER_DELETE_ACTION, message=question)
    await eventually(lambda: "Deleted the folder" in rendered(question), what="the question replaced")
    assert folder_named(emulator, "Research/Trial A") is None
    _, folders = await audit_has(pacs, "folder.delete", AuditOutcome.SUCCEEDED)
    assert folders == (trial.uuid,)
    await pacs.command(pacs.demo.admin, "folder list")
    await eventually(
        lambda: "Trial A" not in rendered(pacs.slack.state.ephemeral_for(pacs.demo.admin)[-1]),
        what="a tree without the deleted folder",
    )


async def test_cancel_removes_the_question(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.admin, "folder delete follow-up")
    question = await pacs.ephemeral(pacs.demo.admin, "Delete the folder")
    await pacs.click(pacs.demo.admin, DISMISS_ACTION, message=question)
    await eventually(lambda: question.deleted, what="the question deleted")
    assert folder_named(emulator, "Follow-up") is not None


async def test_members_may_not_delete_by_default(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "folder delete follow-up")
    message = await pacs.ephemeral(pacs.demo.member, "Only workspace admins")
    assert "delete folders" in message.text
    assert folder_named(emulator, "Follow-up") is not None
    await audit_has(pacs, "folder.delete", AuditOutcome.DENIED)


async def test_a_usergroup_permission_that_slack_cannot_confirm_denies(pacs: Scenario) -> None:
    # Slack knows no user group S0READERS, so membership cannot be confirmed: the answer is no.
    await save_settings(pacs, delete=Permission(audience=Audience.USERGROUP, usergroup_id="S0READERS"))
    await pacs.command(pacs.demo.admin, "folder delete follow-up")
    await pacs.ephemeral(pacs.demo.admin, "could not confirm that you are one")


async def test_a_permission_changed_after_asking_is_checked_again_on_confirm(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.admin, "folder delete follow-up")
    question = await pacs.ephemeral(pacs.demo.admin, "Delete the folder")
    await save_settings(pacs, delete=Permission(audience=Audience.NOBODY))
    await pacs.click(pacs.demo.admin, FOLDER_DELETE_ACTION, message=question)
    await pacs.ephemeral(pacs.demo.admin, "Nobody may delete folders")
    assert folder_named(emulator, "Follow-up") is not None


async def test_a_forged_folder_in_a_button_is_refused(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.admin, "folder delete follow-up")
    question = await pacs.ephemeral(pacs.demo.admin, "Delete the folder")
    await pacs.click(
        pacs.demo.admin, FOLDER_DELETE_ACTION, message=question, value="99999999-9999-4999-8999-999999999999"
    )
    await pacs.ephemeral(pacs.demo.admin, "no longer in this workspace")
    await pacs.click(pacs.demo.admin, FOLDER_DELETE_ACTION, message=question, value="not-a-uuid")
    await pacs.ephemeral(pacs.demo.admin, "not one of mine")
    assert folder_named(emulator, "Follow-up") is not None


async def test_an_unknown_folder_gets_the_closest_names(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "folder view Cazes")
    message = await pacs.ephemeral(pacs.demo.member, "no single folder")
    assert "Cases" in message.text
    assert "Try:" in message.text


async def test_an_ambiguous_folder_is_never_guessed(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "folder view ca")
    message = await pacs.ephemeral(pacs.demo.member, "no single folder")
    assert "Cases" in message.text
    assert "Cases/2025" in message.text
    assert not [share for share in emulator.state.shares_of() if share.kind == "folder-view"]


async def test_add_and_remove_an_order_by_command(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    order = order_where(
        emulator, lambda item: not item.folder_uuids and item.accession_number.startswith("ACC")
    )
    await pacs.command(pacs.demo.member, f"folder add {order.accession_number} Follow-up")
    await pacs.ephemeral(pacs.demo.member, "Added to `Follow-up`")
    follow_up = folder_named(emulator, "Follow-up")
    assert order.uuid in follow_up.order_uuids
    orders, folders = await audit_has(pacs, "folder.add_order", AuditOutcome.SUCCEEDED)
    assert orders == (order.uuid,)
    assert folders == (follow_up.uuid,)
    await pacs.command(pacs.demo.member, f"folder remove {order.accession_number} follow-up")
    await pacs.ephemeral(pacs.demo.member, "out of `Follow-up`")
    assert order.uuid not in follow_up.order_uuids
    await audit_has(pacs, "folder.remove_order", AuditOutcome.SUCCEEDED)


async def test_the_cards_folder_menu_offers_a_picker_that_files_the_order(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    order = order_where(
        emulator, lambda item: not item.folder_uuids and item.accession_number.startswith("ACC")
    )
    await pacs.command(pacs.demo.member, f"search acc:{order.accession_number}")
    results = await pacs.ephemeral(pacs.demo.member, "Search results")
    await pacs.click(
        pacs.demo.member, MORE_ACTION, message=results, value=option_value(results, MORE_ACTION, "folder:")
    )
    picker = await pacs.ephemeral(pacs.demo.member, "Add this order to which folder?")
    await pacs.click(
        pacs.demo.member, PICK_ACTION, message=picker, value=option_value(picker, PICK_ACTION, "Cases/2025")
    )
    await eventually(lambda: "Added to `Cases/2025`" in rendered(picker), what="the picker replaced")
    assert order.uuid in folder_named(emulator, "Cases/2025").order_uuids
    assert "Search results" in rendered(results), "the results stay as they were"


async def test_a_forged_folder_in_the_picker_is_refused(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    order = order_where(
        emulator, lambda item: not item.folder_uuids and item.accession_number.startswith("ACC")
    )
    await pacs.command(pacs.demo.member, f"search acc:{order.accession_number}")
    results = await pacs.ephemeral(pacs.demo.member, "Search results")
    await pacs.click(
        pacs.demo.member, MORE_ACTION, message=results, value=option_value(results, MORE_ACTION, "folder:")
    )
    picker = await pacs.ephemeral(pacs.demo.member, "Add this order to which folder?")
    forged = (
        option_value(picker, PICK_ACTION, "Cases").rsplit("|", 1)[0] + "|99999999-9999-4999-8999-999999999999"
    )
    await pacs.click(
        pacs.demo.member,
        PICK_ACTION,
        message=picker,
        value={"value": forged, "text": {"type": "plain_text", "text": "x"}},
    )
    await pacs.ephemeral(pacs.demo.member, "no longer in this workspace")
    assert not account(emulator).orders[order.uuid].folder_uuids


async def test_view_gives_the_requester_a_viewer_link(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "folder view cases")
    message = await pacs.ephemeral(pacs.demo.member, "Viewer for the folder")
    [share] = [share for share in emulator.state.shares_of() if share.kind == "folder-view"]
    assert share.folder_uuid == CASES_FOLDER_UUID
    assert share.url in json.dumps(message.blocks)
    assert "not for passing on" in rendered(message)
    assert not pacs.slack.state.channel_history(pacs.demo.general)


async def test_share_link_posts_in_the_channel_with_the_default_expiry(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await save_settings(pacs, default_share_expiry_days=10)
    await pacs.command(pacs.demo.member, "folder share cases link download")
    message = await posted(pacs, pacs.demo.general, "shared a link to view the folder")
    [share] = [share for share in emulator.state.shares_of() if share.kind == "folder-link"]
    assert share.folder_uuid == CASES_FOLDER_UUID
    assert share.expire_date == (date.today() + timedelta(days=10)).isoformat()
    assert share.can_download
    assert share.url in json.dumps(message.blocks)
    await audit_has(pacs, "folder.share_link", AuditOutcome.SUCCEEDED)


async def test_share_to_upload_with_a_link(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, 'folder share "Research/Trial A" upload expires:2035-12-31')
    await posted(pacs, pacs.demo.general, "upload into the folder")
    [share] = [share for share in emulator.state.shares_of() if share.kind == "folder-upload-link"]
    assert share.folder_uuid == folder_named(emulator, "Research/Trial A").uuid
    assert share.institution_uuid == MAIN_INSTITUTION_UUID
    assert share.expire_date == "2035-12-31"


async def test_a_folder_path_with_spaces_needs_no_quotes_when_it_is_exact(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.member, "folder share Research/Trial A Radiologists 30d")
    await pacs.ephemeral(pacs.demo.member, "with the group *Radiologists*")
    [share] = [share for share in emulator.state.shares_of() if share.kind == "folder-group"]
    assert share.folder_uuid == folder_named(emulator, "Research/Trial A").uuid
    assert share.shared_group_uuids == [RADIOLOGISTS_GROUP_UUID]
    assert share.expire_date == (date.today() + timedelta(days=30)).isoformat()


async def test_share_by_email_and_to_upload_by_email(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "folder share cases email:<mailto:gp@example.org|gp@example.org>")
    await pacs.ephemeral(pacs.demo.member, "e-mailed a link to `Cases` to gp@example.org")
    await pacs.command(
        pacs.demo.member, "folder share cases email:lab@example.org upload password-to:boss@example.org"
    )
    await pacs.ephemeral(pacs.demo.member, "invitation to upload into `Cases`")
    kinds = {share.kind: share for share in emulator.state.shares_of()}
    assert kinds["folder-email"].email == "gp@example.org"
    assert kinds["folder-upload-email"].password_email == "boss@example.org"
    await audit_has(pacs, "folder.share_upload_email", AuditOutcome.SUCCEEDED)


async def test_email_sharing_follows_the_setting(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await save_settings(pacs, email_share=Permission(audience=Audience.NOBODY))
    await pacs.command(pacs.demo.admin, "folder share cases email:gp@example.org")
    await pacs.ephemeral(pacs.demo.admin, "Nobody may share by e-mail")
    assert not emulator.state.shares_of()
    await audit_has(pacs, "folder.share_email", AuditOutcome.DENIED)


async def test_share_with_a_slack_user_uses_their_link(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    member = pacs.demo.member
    await pacs.app.services.store.user_links.link(pacs.workspace, member.id, BEN_UUID)
    await pacs.command(pacs.demo.admin, f"folder share cases <@{member.id}|{member.name}>")
    await pacs.ephemeral(pacs.demo.admin, "Shared `Cases` with")
    [share] = [share for share in emulator.state.shares_of() if share.kind == "folder-user"]
    assert share.shared_user_uuids == [BEN_UUID]


async def test_share_with_an_unknown_slack_user_explains(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    admin = pacs.demo.admin
    await pacs.command(pacs.demo.member, f"folder share cases <@{admin.id}|{admin.name}>")
    await pacs.ephemeral(pacs.demo.member, "is not linked to a PostDICOM user")
    assert not emulator.state.shares_of()


async def test_share_needs_one_kind_of_recipient_and_a_known_group(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "folder share cases")
    await pacs.ephemeral(pacs.demo.member, "say who gets it")
    await pacs.command(pacs.demo.member, "folder share cases link email:a@example.org")
    await pacs.ephemeral(pacs.demo.member, "one kind of recipient")
    await pacs.command(pacs.demo.member, "folder share cases Radiolgists")
    message = await pacs.ephemeral(pacs.demo.member, "no single user group")
    assert "Radiologists" in message.text
    await pacs.command(pacs.demo.member, "folder share cases link expires:2001-01-01")
    await pacs.ephemeral(pacs.demo.member, "expiry date has passed")


async def test_an_unknown_folder_action_shows_the_choices(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "folder rename cases")
    message = await pacs.ephemeral(pacs.demo.member, "there is no `folder rename`")
    assert "Try:" in message.text
