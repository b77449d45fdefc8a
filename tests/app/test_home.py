"""The Home tab as a personal worklist: a radiologist's assigned orders, urgent unread ones, subscriptions."""

from __future__ import annotations

import json
from pathlib import Path

from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.postdicom.seed import PRIORITY_GROUP_ID, READING_GROUP_ID, UNREAD_FLAG_ID, URGENT_FLAG_ID
from bot.sandbox.slack.model import View
from bot.ui.home import HOME_REFRESH_ACTION, MAX_VIEW_BLOCKS
from tests.app.harness import Scenario, connected_scenario, eventually
from tests.app.pacs_world import account
from tests.app.test_subscriptions import EXPLICIT_POLLS, new_ct_order


async def open_home(world: Scenario, containing: str) -> View:
    await world.event(
        {"type": "app_home_opened", "user": world.demo.member.id, "tab": "home", "channel": "D1"}
    )
    return await home_containing(world, containing)


async def home_containing(world: Scenario, containing: str) -> View:
    def home() -> View | None:
        views = [
            view
            for view in world.slack.state.views.values()
            if view.type == "home" and view.user_id == world.demo.member.id and not view.closed
        ]
        return views[-1] if views and containing in json.dumps(views[-1].definition) else None

    return await eventually(home, what=f"a home tab containing {containing!r}")


async def test_a_radiologist_sees_the_orders_assigned_to_them(
    tmp_path: Path, emulator: PostDicomEmulator
) -> None:
    async with connected_scenario(tmp_path, emulator, **EXPLICIT_POLLS) as world:
        radiologist = sorted(account(emulator).users)[0]
        await world.app.services.store.user_links.link(world.workspace, world.demo.member.id, radiologist)
        mine = new_ct_order(emulator, "HOMEMINE01")
        account(emulator).update_order(mine, lambda order: order.assigned_users.append(radiologist))
        new_ct_order(emulator, "HOMEOTHER1")
        waiting = new_ct_order(emulator, "HOMEURGENT")
        account(emulator).update_order(
            waiting,
            lambda order: order.flags.update(
                {PRIORITY_GROUP_ID: URGENT_FLAG_ID, READING_GROUP_ID: UNREAD_FLAG_ID}
            ),
        )
        await world.command(world.demo.member, "subscribe mod:CT", world.demo.general)
        home = await open_home(world, "HOMEMINE01")
        blocks = home.definition["blocks"]
        assert len(blocks) <= MAX_VIEW_BLOCKS
        text = json.dumps(blocks)
        assigned_part, _, rest = text.partition("Urgent and unread")
        assert "HOMEMINE01" in assigned_part
        assert "HOMEOTHER1" not in text
        urgent_part, _, subscriptions_part = rest.partition("My subscriptions")
        assert "HOMEURGENT" in urgent_part
        assert "mod:CT" in subscriptions_part
        assert HOME_REFRESH_ACTION in text


async def test_an_unlinked_user_is_told_how_to_link_and_refresh_shows_new_work(
    tmp_path: Path, emulator: PostDicomEmulator
) -> None:
    async with connected_scenario(tmp_path, emulator, **EXPLICIT_POLLS) as world:
        home = await open_home(world, "/pacs me")
        radiologist = sorted(account(emulator).users)[0]
        await world.app.services.store.user_links.link(world.workspace, world.demo.member.id, radiologist)
        mine = new_ct_order(emulator, "HOMELATER1")
        account(emulator).update_order(mine, lambda order: order.assigned_users.append(radiologist))
        await world.click(world.demo.member, HOME_REFRESH_ACTION, view=home)
        await home_containing(world, "HOMELATER1")
