"""Slack user ↔ PostDICOM user links."""

from __future__ import annotations

from bot.store import Store, UserLink, WorkspaceRef
from tests.store.conftest import MutableClock

WORKSPACE = WorkspaceRef(None, "T0001")
OTHER = WorkspaceRef(None, "T0002")
READER = "5e55e55e-0000-4000-8000-00000000000a"
SURGEON = "5e55e55e-0000-4000-8000-00000000000b"


async def test_a_user_who_never_linked_has_no_link(store: Store) -> None:
    assert await store.user_links.get(WORKSPACE, "U0ALICE") is None


async def test_link_then_get(store: Store, clock: MutableClock) -> None:
    link = await store.user_links.link(WORKSPACE, "U0ALICE", READER)
    assert link == UserLink("U0ALICE", READER, clock.now)
    assert await store.user_links.get(WORKSPACE, "U0ALICE") == link
    assert await store.user_links.get(OTHER, "U0ALICE") is None


async def test_linking_again_replaces_the_link(store: Store, clock: MutableClock) -> None:
    await store.user_links.link(WORKSPACE, "U0ALICE", READER)
    clock.advance(5)
    await store.user_links.link(WORKSPACE, "U0ALICE", SURGEON)
    assert await store.user_links.get(WORKSPACE, "U0ALICE") == UserLink("U0ALICE", SURGEON, clock.now)
    assert await store.user_links.all(WORKSPACE) == [UserLink("U0ALICE", SURGEON, clock.now)]


async def test_find_the_slack_users_of_a_postdicom_user_ignoring_case(store: Store) -> None:
    await store.user_links.link(WORKSPACE, "U0BOB", READER.upper())
    await store.user_links.link(WORKSPACE, "U0ALICE", READER)
    await store.user_links.link(WORKSPACE, "U0CAROL", SURGEON)
    await store.user_links.link(OTHER, "U0DAVE", READER)
    assert await store.user_links.slack_users_for(WORKSPACE, READER) == ["U0ALICE", "U0BOB"]
    assert await store.user_links.slack_users_for(WORKSPACE, READER.upper()) == ["U0ALICE", "U0BOB"]


async def test_unlink(store: Store) -> None:
    await store.user_links.link(WORKSPACE, "U0ALICE", READER)
    assert await store.user_links.unlink(WORKSPACE, "U0ALICE") is True
    assert await store.user_links.unlink(WORKSPACE, "U0ALICE") is False
    assert await store.user_links.all(WORKSPACE) == []
