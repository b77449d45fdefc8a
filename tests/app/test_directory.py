"""Directory scenarios: /pacs nodes, /pacs users and /pacs me."""

from __future__ import annotations

from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.postdicom.seed import BEN_UUID
from bot.store.audit import AuditOutcome
from tests.app.harness import Scenario
from tests.app.pacs_world import audit_has, rendered


async def test_nodes_lists_name_ae_title_and_address(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "nodes")
    text = rendered(await pacs.ephemeral(pacs.demo.member, "DICOM nodes"))
    assert "CT Scanner Room 1" in text
    assert "CT_ROOM1" in text
    assert "10.20.0.22:11112" in text


async def test_nodes_come_from_the_cache_the_second_time(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "nodes")
    await pacs.ephemeral(pacs.demo.member, "CT_ROOM1")
    misses = pacs.app.services.dictionaries.cache.stats["misses"]
    await pacs.command(pacs.demo.admin, "nodes")
    await pacs.ephemeral(pacs.demo.admin, "CT_ROOM1")
    assert pacs.app.services.dictionaries.cache.stats["misses"] == misses


async def test_users_lists_the_account_and_the_acting_user(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "users")
    text = rendered(await pacs.ephemeral(pacs.demo.member, "PostDICOM users"))
    for name in ("Ada Radiologist", "Ben Technologist", "Chloe Referrer", "ben@example.org", "Branch Clinic"):
        assert name in text
    assert "The app acts as this user" in text


async def test_me_links_shows_and_unlinks(pacs: Scenario) -> None:
    admin = pacs.demo.admin
    await pacs.command(admin, "me")
    await pacs.ephemeral(admin, "You are not linked to a PostDICOM user")
    await pacs.command(admin, "me ben@example.org")
    linked = await pacs.ephemeral(admin, "You are now *Ben Technologist*")
    assert "not the one on your Slack profile" in rendered(linked)
    link = await pacs.app.services.store.user_links.get(pacs.workspace, admin.id)
    assert link is not None
    assert link.postdicom_user_uuid == BEN_UUID
    await audit_has(pacs, "user.link", AuditOutcome.SUCCEEDED)
    await pacs.command(pacs.demo.admin, "users")
    listing = await pacs.ephemeral(pacs.demo.admin, "PostDICOM users")
    assert f"<@{admin.id}>" in rendered(listing)
    await pacs.command(admin, "me")
    await pacs.ephemeral(admin, "You are *Ben Technologist* in PostDICOM")
    await pacs.command(admin, "me none")
    await pacs.ephemeral(admin, "no longer linked")
    assert await pacs.app.services.store.user_links.get(pacs.workspace, admin.id) is None


async def test_a_member_may_link_only_to_the_user_with_their_email(pacs: Scenario) -> None:
    member = pacs.demo.member
    await pacs.command(member, "me ben@example.org")
    refusal = await pacs.ephemeral(member, "you cannot link yourself to that PostDICOM user")
    assert "admin" in rendered(refusal)
    assert await pacs.app.services.store.user_links.get(pacs.workspace, member.id) is None
    await audit_has(pacs, "user.link", AuditOutcome.DENIED)
    ada = pacs.slack.state.add_user(pacs.demo.team, "ada.slack", real_name="Ada R", email="ADA@example.org")
    await pacs.command(ada, "me ada")
    await pacs.ephemeral(ada, "You are now *Ada Radiologist*")
    link = await pacs.app.services.store.user_links.get(pacs.workspace, ada.id)
    assert link is not None


async def test_me_by_partial_name_picks_one_person_matched_by_several_names(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.admin, "me ad")
    await pacs.ephemeral(pacs.demo.admin, "You are now *Ada Radiologist*")


async def test_me_never_guesses_between_people(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "me r")
    message = await pacs.ephemeral(pacs.demo.member, "could be")
    assert "Ada Radiologist" in message.text
    assert "Chloe Referrer" in message.text
    await pacs.command(pacs.demo.member, "me benn")
    message = await pacs.ephemeral(pacs.demo.member, "no PostDICOM user is called 'benn'")
    assert "Ben Technologist" in message.text
    assert await pacs.app.services.store.user_links.get(pacs.workspace, pacs.demo.member.id) is None
