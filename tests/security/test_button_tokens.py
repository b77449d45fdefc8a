"""Tokens in buttons, as an attacker or an old message would present them to the running app.

A Retry button whose value is a stored secret's ciphertext (lifted from the database) or a
ciphertext of the configured key itself, and a page button whose token expired, do nothing but
say so; PostDICOM is not asked anything.
"""

from __future__ import annotations

import time

import pytest
from cryptography.fernet import Fernet
from slack_sdk.models.blocks import ActionsBlock
from sqlalchemy import select

from bot.sandbox.postdicom import PostDicomEmulator
from bot.store import Purpose
from bot.store.crypto import BUTTON_TOKEN_MAX_AGE_SECONDS
from bot.store.schema import ConnectionRow
from bot.ui.blocks import RETRY_ACTION, button, retry_message, to_json
from bot.ui.orders import NEXT_PAGE_ACTION
from tests.app.harness import Scenario


def frames(emulator: PostDicomEmulator) -> int:
    return sum(emulator.stats.frames.values())


async def stored_api_key_ciphertext(world: Scenario) -> str:
    async with world.app.services.store.database.transaction() as session:
        value = await session.scalar(select(ConnectionRow.api_key_encrypted))
    assert value is not None
    return bytes(value).decode("ascii")


async def press(world: Scenario, action_id: str, value: str) -> None:
    blocks = (
        retry_message(":x: failed", value)
        if action_id == RETRY_ACTION
        else to_json([ActionsBlock(elements=[button("Next ▶", NEXT_PAGE_ACTION, value)])])
    )
    card = world.slack.state.post_ephemeral(
        world.demo.general, world.demo.member, text="old", blocks=blocks, bot_id=world.demo.bot.bot_id
    )
    await world.click(world.demo.member, action_id, message=card)


@pytest.mark.parametrize("kind", ["stored_secret", "configured_key", "other_workspace"])
async def test_a_retry_button_runs_only_a_token_sealed_for_retries_in_this_workspace(
    world: Scenario, emulator: PostDicomEmulator, kind: str
) -> None:
    settings = world.app.services.settings
    assert settings.encryption_key is not None
    configured = settings.encryption_key.get_secret_value().split(",")[0]
    value = {
        "stored_secret": await stored_api_key_ciphertext(world),
        "configured_key": Fernet(configured).encrypt(b"search mod:CT").decode("ascii"),
        "other_workspace": world.app.services.store.cipher.seal(
            Purpose.RETRY_BUTTON, "-:T0OTHER", "search mod:CT"
        ),
    }[kind]
    before = frames(emulator)
    await press(world, RETRY_ACTION, value)
    await world.ephemeral(world.demo.member, "That Retry button is not one I can read any more")
    assert frames(emulator) == before


async def test_an_expired_page_button_does_nothing(world: Scenario, emulator: PostDicomEmulator) -> None:
    cipher = world.app.services.store.cipher
    old = time.time() - BUTTON_TOKEN_MAX_AGE_SECONDS - 3600
    token = cipher.seal(Purpose.PAGE_BUTTON, world.workspace.key, "mod:CT", issued_at=old)
    before = frames(emulator)
    await press(world, NEXT_PAGE_ACTION, f"2:{token}")
    await world.ephemeral(world.demo.member, "That page is from an older search")
    assert frames(emulator) == before
    # The same query sealed today pages.
    fresh = cipher.seal(Purpose.PAGE_BUTTON, world.workspace.key, "mod:CT")
    await press(world, NEXT_PAGE_ACTION, f"1:{fresh}")
    await world.ephemeral(world.demo.member, "found")
