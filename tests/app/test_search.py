"""Search scenarios: signed commands → app → emulator → Slack stub."""

from __future__ import annotations

import json
import time
from pathlib import Path

from bot.sandbox.postdicom import PostDicomEmulator
from bot.store import PhiDisplay, WorkspaceSettings
from bot.ui.orders import NEXT_PAGE_ACTION, PREVIOUS_PAGE_ACTION, SHARE_ACTION
from tests.app.harness import Scenario, eventually, scenario
from tests.app.pacs_world import account, order_where


async def set_phi(world: Scenario, phi: PhiDisplay) -> None:
    await world.app.services.store.workspace_settings.save(
        world.workspace, WorkspaceSettings(phi_display=phi)
    )


async def test_search_by_name_shows_the_order_with_its_buttons(pacs: Scenario) -> None:
    await set_phi(pacs, PhiDisplay.FULL)
    await pacs.command(pacs.demo.member, "search compressedsamples ct1")
    message = await pacs.ephemeral(pacs.demo.member, "Search results")
    rendered = json.dumps(message.blocks)
    assert "CompressedSamples, CT1" in rendered
    assert "1CT1" in rendered
    assert SHARE_ACTION in rendered
    assert "1 order found" in message.text


async def test_bare_text_is_a_search_and_initials_hide_the_name(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "compressedsamples ct1")
    message = await pacs.ephemeral(pacs.demo.member, "Search results")
    rendered = json.dumps(message.blocks)
    assert "CompressedSamples" not in rendered
    assert "C. C." in rendered
    assert "1CT1" not in rendered


async def test_hidden_phi_shows_no_name_and_no_id(pacs: Scenario) -> None:
    await set_phi(pacs, PhiDisplay.HIDDEN)
    await pacs.command(pacs.demo.member, "search id:1CT1")
    rendered = json.dumps((await pacs.ephemeral(pacs.demo.member, "Search results")).blocks)
    assert "name hidden" in rendered
    assert "1CT1" not in rendered
    assert "C. C." not in rendered


async def test_results_page_forward_in_place(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "search mod:CT")
    first = await pacs.ephemeral(pacs.demo.member, "Search results")
    assert "Orders 1 to 10 of" in json.dumps(first.blocks)
    await pacs.click(pacs.demo.member, NEXT_PAGE_ACTION, message=first)
    await eventually(lambda: "Orders 11 to 20 of" in json.dumps(first.blocks), what="page 2 in place")
    assert first.text.endswith("orders found")


async def test_paging_walks_forward_and_back_over_five_pages(pacs: Scenario) -> None:
    # Slack refuses a block whose two buttons share an action_id: from page 2 on, "Previous" and
    # "Next" sit side by side, and the strict stub would refuse the page as Slack does.
    await pacs.command(pacs.demo.member, "search mod:CT")
    message = await pacs.ephemeral(pacs.demo.member, "Search results")
    assert "Orders 1 to 10 of" in json.dumps(message.blocks)
    steps = [(NEXT_PAGE_ACTION, page) for page in range(2, 6)]
    steps += [(PREVIOUS_PAGE_ACTION, page) for page in range(4, 0, -1)]
    for action, page in steps:
        await pacs.click(pacs.demo.member, action, message=message)
        wanted = f"Orders {(page - 1) * 10 + 1} to"
        await eventually(lambda w=wanted: w in json.dumps(message.blocks), what=f"page {page}")  # type: ignore[misc]
    refused = [call for call in pacs.slack.calls if not call.ok]
    assert refused == []


async def test_filters_narrow_results_as_the_words_say(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "search mod:MR from:2024-01-01 to:2024-06-30")
    message = await pacs.ephemeral(pacs.demo.member, "Search results")
    studies = [
        block["text"]["text"].splitlines()[1] for block in message.blocks if block["type"] == "section"
    ]
    assert studies
    for study in studies:
        modality, day = study.split(" · ")[:2]
        assert modality == "MR"
        assert "2024-01-01" <= day[:10] <= "2024-06-30"


async def test_a_query_that_cannot_be_read_gets_a_corrected_example(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "search from:someday")
    message = await pacs.ephemeral(pacs.demo.member, "is not a study date I can read")
    assert "Try:" in message.text


async def test_an_empty_search_explains_itself(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "search")
    await pacs.ephemeral(pacs.demo.member, "tell me what to look for")


async def test_an_unconnected_workspace_is_told_to_ask_an_admin(world: Scenario) -> None:
    await world.command(world.demo.member, "search doe")
    message = await world.ephemeral(world.demo.member, "not connected to PostDICOM")
    assert "/pacs connect" in message.text


async def test_the_command_is_acked_before_postdicom_answers(
    tmp_path: Path, emulator: PostDicomEmulator
) -> None:
    async with scenario(
        tmp_path,
        postdicom_router_url=emulator.router_url,
        extra_settings={
            "PACSBOT_POSTDICOM_API_KEY": emulator.api_key,
            "PACSBOT_POSTDICOM_ACCOUNT_KEY": emulator.account_key,
            "PACSBOT_POSTDICOM_TIMEOUT": "10",
        },
    ) as world:
        emulator.faults.set(emulator.account_key, latency=5.0)
        payload = world.slack.payloads.slash_command(
            user=world.demo.member, channel=world.demo.general, text="search mod:CT"
        )
        started = time.monotonic()
        answer = await world.send(payload)
        acked_after = time.monotonic() - started
        assert getattr(answer, "status", None) == 200
        # The ack came back while PostDICOM was still sitting on the search.
        assert acked_after < 5.0
        assert not world.slack.state.ephemeral_for(world.demo.member)
        # Connecting, the dictionaries and the search each wait 5 s at the emulator.
        await world.ephemeral(world.demo.member, "Search results", within=40)


def searches(emulator: PostDicomEmulator) -> int:
    """Count the order searches PostDICOM was asked for."""
    return sum(count for name, count in emulator.stats.frames.items() if "ORDER_LIST" in name)


async def test_a_mistyped_subcommand_is_questioned_not_searched(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    before = searches(emulator)
    for typed, meant in (
        ("serach mod:CT", "search"),
        ("shar ACC0000050", "share"),
        ("hlep", "help"),
        ("setings", "settings"),
        ("flg ACC0000050 urgent", "flag"),
    ):
        await pacs.command(pacs.demo.member, typed)
        message = await pacs.ephemeral(pacs.demo.member, f"Did you mean `{meant}`?")
        assert f"/pacs {meant}" in message.text
    assert searches(emulator) == before, "no typo ran as a name search"
    assert not [m for m in pacs.slack.state.ephemeral_for(pacs.demo.member) if "No order matches" in m.text]


async def test_an_unknown_filter_is_refused_with_the_known_ones(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    before = searches(emulator)
    await pacs.command(pacs.demo.member, "foo:bar")
    message = await pacs.ephemeral(pacs.demo.member, "`foo:` is not a filter I know")
    assert "`mod:`" in message.text
    await pacs.command(pacs.demo.member, "search doe modality:CT")
    await pacs.ephemeral(pacs.demo.member, "Did you mean `mod:`?")
    assert searches(emulator) == before


async def test_a_bare_accession_number_or_patient_id_finds_its_order(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await set_phi(pacs, PhiDisplay.FULL)
    order = order_where(emulator, lambda order: order.accession_number == "ACC0000166")
    await pacs.command(pacs.demo.member, "ACC0000166")
    message = await pacs.ephemeral(pacs.demo.member, "1 order found")
    assert "ACC0000166" in json.dumps(message.blocks)
    await pacs.command(pacs.demo.member, order.patient_id)
    message = await pacs.ephemeral(pacs.demo.member, order.patient_id)
    assert message.text == "1 order found"
    assert "ACC0000166" in json.dumps(message.blocks)


async def test_names_match_whatever_their_accents_and_case(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await set_phi(pacs, PhiDisplay.FULL)
    for typed, surname in (
        ("muller", "Müller"),
        ("NUNEZ", "Nuñez"),
        ("celik", "Çelik"),
        ("overgaard", "Øvergaard"),
    ):
        wanted = {
            order.accession_number
            for order in account(emulator).live_orders()
            if order.patient_name.startswith(surname + "^")
        }
        assert wanted, f"the seed has {surname}"
        before = len(pacs.slack.state.ephemeral_for(pacs.demo.member))
        await pacs.command(pacs.demo.member, f"search {typed}")
        await eventually(
            lambda: len(pacs.slack.state.ephemeral_for(pacs.demo.member)) > before,  # noqa: B023
            what=f"the answer to {typed}",
        )
        message = pacs.slack.state.ephemeral_for(pacs.demo.member)[-1]
        found = message.text.split()[0]
        assert int(found) == len(wanted), (typed, message.text)
        assert surname in json.dumps(message.blocks, ensure_ascii=False)


async def test_from_takes_a_range_and_born_takes_a_year(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    orders = list(account(emulator).live_orders())
    in_july = [o for o in orders if o.modality == "CT" and o.performed[:7] == "2024-07"]
    born_1960 = [o for o in orders if o.birthdate[:4] == "1960"]
    assert in_july
    assert born_1960
    for text, expected in (
        ("search mod:CT from:2024-07-01..2024-07-31", len(in_july)),
        ("search born:1960", len(born_1960)),
    ):
        before = len(pacs.slack.state.ephemeral_for(pacs.demo.member))
        await pacs.command(pacs.demo.member, text)
        await eventually(
            lambda: len(pacs.slack.state.ephemeral_for(pacs.demo.member)) > before,  # noqa: B023
            what=f"the answer to {text}",
        )
        answer = pacs.slack.state.ephemeral_for(pacs.demo.member)[-1]
        assert answer.text == f"{expected} order{'s' if expected != 1 else ''} found", (text, answer.text)
