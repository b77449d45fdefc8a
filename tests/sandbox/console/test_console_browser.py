"""The sandbox in a real browser: search, share a link and open it, drop a DICOM file and see it land.

Playwright drives Debian's Chromium (``/usr/bin/chromium``; Playwright's own browser download does
not work here). Screenshots of each step go to ``test-artifacts/console/``. Without Chromium the
test is skipped, except under ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from pydicom.data import get_testdata_file

from bot.sandbox.postdicom.seed import BEN_UUID
from bot.sandbox.run import Sandbox
from bot.sandbox.slack import DeliveryResult, InboundPayload
from bot.store import WorkspaceRef
from bot.ui.orders import FLAG_ACTION
from bot.ui.values import OrderRef
from tests.dicom.samples import ct_image, new_uid
from tests.system_tools import unavailable

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "console"
# Generous: the sandbox, the app and Chromium share two cores with the rest of the suite.
STEP_MS = 30_000

try:
    from playwright.async_api import Browser, Page, async_playwright, expect
except ImportError:  # pragma: no cover - the dev extra installs it
    HAVE_PLAYWRIGHT = False
else:
    HAVE_PLAYWRIGHT = True


def _require_browser() -> None:
    missing = []
    if not HAVE_PLAYWRIGHT:
        missing.append("the playwright package (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if missing:
        unavailable("a browser", " and ".join(missing))


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    _require_browser()
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            # Root in a container has no user namespaces for Chromium's sandbox.
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


async def _shot(page: Page, artifacts: Path, name: str) -> None:
    await page.screenshot(path=str(artifacts / f"{name}.png"))


async def _open_link(page: Page, href: str) -> None:
    """Open a link the app posted in a new tab and check that the emulator's page answers."""
    tab = await page.context.new_page()
    response = await tab.goto(href)
    assert response is not None
    assert response.status == 200, f"{href} answered {response.status}"
    await expect(tab.locator("h1")).to_be_visible()
    await tab.close()


async def test_search_share_open_the_link_and_drop_a_dicom_file(
    browser: Browser, artifacts: Path, tmp_path: Path
) -> None:
    async with Sandbox(port=0) as sandbox:
        assert sandbox.demo is not None
        assert sandbox.emulator is not None
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        member = sandbox.demo.member.id
        await page.goto(f"{sandbox.url}#u={member}")
        await expect(page.locator("#channel-title")).to_have_text("# general", timeout=STEP_MS)
        await _shot(page, artifacts, "flow-1-general")

        # A search is a signed slash command; its results come back as an ephemeral message.
        await page.locator("#composer-input").fill("/pacs search mod:CT")
        await page.locator("#composer-input").press("Enter")
        results = page.locator(".message.ephemeral", has_text="Search results")
        await expect(results).to_be_visible(timeout=STEP_MS)
        await expect(results.locator(".ephemeral-note")).to_contain_text("Only visible to you")
        await _shot(page, artifacts, "flow-2-search-results")

        # Share link is a block_actions click; the app posts the link to the channel for everyone.
        await results.get_by_role("button", name="Share link").first.click()
        shared = page.locator(".message:not(.ephemeral)", has_text="shared a study")
        await expect(shared).to_be_visible(timeout=STEP_MS)
        link = shared.get_by_role("link", name="Open in PostDICOM")
        href = await link.get_attribute("href")
        assert href is not None
        assert href.startswith(f"{sandbox.emulator.base_url}/view/")
        await _shot(page, artifacts, "flow-3-share-link")
        await _open_link(page, href)

        # A dropped DICOM file becomes a real file share through the local Slack.
        dicom = tmp_path / "CT_small.dcm"
        shutil.copyfile(str(get_testdata_file("CT_small.dcm")), dicom)
        await page.locator("#file-input").set_input_files(str(dicom))
        upload = page.locator(".message", has=page.locator(".file-card", has_text="CT_small.dcm"))
        await expect(upload).to_be_visible(timeout=STEP_MS)
        await _shot(page, artifacts, "flow-4-file-shared")

        # Channels ask before uploading by default: the prompt goes to the person who shared.
        prompt = page.locator(".message.ephemeral").get_by_role("button", name="Upload", exact=True)
        await expect(prompt).to_be_visible(timeout=STEP_MS)
        await prompt.click()

        # Progress and the done card live in the file's thread; the done card carries a share link.
        await expect(upload.locator(".replies")).to_be_visible(timeout=STEP_MS)
        await upload.locator(".replies").click()
        thread = page.locator("#thread-pane")
        done_link = thread.locator("a[href*='/view/']")
        await expect(done_link.first).to_be_visible(timeout=STEP_MS * 2)
        await _shot(page, artifacts, "flow-5-upload-done")
        done_href = await done_link.first.get_attribute("href")
        assert done_href is not None
        await _open_link(page, done_href)
        assert errors == []
        await context.close()


async def test_files_dropped_together_show_in_one_thread_message(
    browser: Browser, artifacts: Path, tmp_path: Path
) -> None:
    study = new_uid()
    paths = []
    for index in range(2):
        path = tmp_path / f"IM{index}.dcm"
        path.write_bytes(ct_image(study=study))
        paths.append(str(path))
    async with Sandbox(port=0) as sandbox:
        assert sandbox.demo is not None
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(f"{sandbox.url}#u={sandbox.demo.member.id}")
        await expect(page.locator("#channel-title")).to_have_text("# general", timeout=STEP_MS)

        await page.locator("#file-input").set_input_files(paths)
        upload = page.locator(".message", has=page.locator(".file-card", has_text="IM1.dcm"))
        await expect(upload).to_be_visible(timeout=STEP_MS)
        prompt = page.locator(".message.ephemeral", has_text="2 DICOM files, 1 study")
        await prompt.get_by_role("button", name="Upload", exact=True).click()

        await expect(upload.locator(".replies")).to_be_visible(timeout=STEP_MS)
        await upload.locator(".replies").click()
        thread = page.locator("#thread-pane")
        summary = thread.locator(".message", has_text="2 files shared here are in PostDICOM")
        await expect(summary).to_be_visible(timeout=STEP_MS * 2)
        await _shot(page, artifacts, "share-two-files-done")
        # One message for the share: both files' lines, the study's card and its link once.
        assert await thread.locator(".message", has_text="is in PostDICOM").count() == 1
        await expect(summary).to_contain_text("IM0.dcm")
        await expect(summary).to_contain_text("IM1.dcm")
        assert await summary.locator("a[href*='/view/']").count() == 1
        assert errors == []
        await context.close()


def _text(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _text(text), "value": value}


KITCHEN_SINK: list[dict[str, Any]] = [
    {"type": "header", "text": _text("Every block")},
    {
        "type": "section",
        "block_id": "intro",
        "text": {
            "type": "mrkdwn",
            "text": "*bold* _slanted_ ~gone~ `a_b` <https://example.org/a_b_c|*a link*> <@{member}> :white_check_mark:",
        },
        "fields": [{"type": "mrkdwn", "text": "*Modality*\nCT"}, _text("Field two")],
        "accessory": {
            "type": "overflow",
            "action_id": "t.more",
            "options": [_option("One", "1"), _option("Two", "2")],
        },
    },
    {"type": "divider"},
    {
        "type": "section",
        "block_id": "pick",
        "text": {"type": "mrkdwn", "text": "Pick one"},
        "accessory": {
            "type": "static_select",
            "action_id": "t.static",
            "placeholder": _text("Choose"),
            "options": [_option("Alpha", "a"), _option("Beta", "b")],
        },
    },
    {
        "type": "actions",
        "block_id": "row",
        "elements": [
            {
                "type": "button",
                "action_id": "t.press",
                "text": _text("Press"),
                "value": "pressed",
                "style": "danger",
                "confirm": {
                    "title": _text("Sure?"),
                    "text": _text("Really press it?"),
                    "confirm": _text("Do it"),
                    "deny": _text("Stop"),
                },
            },
            {
                "type": "external_select",
                "action_id": "t.find",
                "placeholder": _text("Find"),
                "min_query_length": 1,
            },
            {"type": "datepicker", "action_id": "t.day", "initial_date": "2026-01-02"},
        ],
    },
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "a *context* line"}]},
    {"type": "image", "image_url": "https://example.org/scan.png", "alt_text": "a remote scan"},
]

MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "t.modal",
    "title": _text("A form"),
    "submit": _text("Save"),
    "close": _text("Cancel"),
    "notify_on_close": True,
    "private_metadata": "never shown",
    "blocks": [
        {
            "type": "input",
            "block_id": "name",
            "label": _text("Name"),
            "element": {"type": "plain_text_input", "action_id": "v"},
        },
        {
            "type": "input",
            "block_id": "kind",
            "optional": True,
            "label": _text("Kind"),
            "element": {
                "type": "static_select",
                "action_id": "v",
                "options": [_option("CT", "ct"), _option("MR", "mr")],
            },
        },
        {
            "type": "input",
            "block_id": "day",
            "label": _text("Day"),
            "element": {"type": "datepicker", "action_id": "v"},
        },
        {
            "type": "input",
            "block_id": "ticks",
            "optional": True,
            "label": _text("Options"),
            "element": {"type": "checkboxes", "action_id": "v", "options": [_option("Urgent", "urgent")]},
        },
    ],
}


DROP_A_PDF = """(selector) => {
    const files = new DataTransfer();
    files.items.add(new File(["%PDF-1.4 sandbox"], "report.pdf", { type: "application/pdf" }));
    const target = document.querySelector(selector);
    for (const type of ["dragenter", "dragover", "drop"]) {
        target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: files }));
    }
}"""


async def test_every_block_kind_renders_and_answers_as_slack_would(browser: Browser, artifacts: Path) -> None:
    async with Sandbox(port=0) as sandbox:
        assert sandbox.demo is not None
        assert sandbox.slack is not None
        assert sandbox.link is not None
        demo, state, link = sandbox.demo, sandbox.slack.state, sandbox.link
        delivered: list[dict[str, Any]] = []
        arrived = asyncio.Event()
        original = link._deliver

        async def record(payload: InboundPayload) -> DeliveryResult | None:
            """Answer this test's own elements here; everything else still goes to the app."""
            body = payload.payload
            ours = json.dumps(
                body.get("actions") or body.get("action_id") or body.get("view", {}).get("callback_id")
            )
            if "t." not in ours:
                return await original(payload)
            delivered.append(body)
            arrived.set()
            answer: dict[str, Any] = {}
            if body["type"] == "block_suggestion":
                answer = {"options": [_option(f"{body['value']}-ray", "xray")]}
            if (
                body["type"] == "view_submission"
                and len([d for d in delivered if d["type"] == "view_submission"]) == 1
            ):
                answer = {"response_action": "errors", "errors": {"name": "That name is taken"}}
            return DeliveryResult(200, CIMultiDictProxy(CIMultiDict()), json.dumps(answer).encode())

        link._deliver = record  # type: ignore[method-assign]
        blocks = json.loads(json.dumps(KITCHEN_SINK).replace("{member}", demo.member.id))
        message = state.post_message(demo.general, text="Every block", blocks=blocks, author=demo.bot)

        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(f"{sandbox.url}#u={demo.member.id}")
        card = page.locator(f".message[data-ts='{message.ts}']")
        await expect(card.locator("h3")).to_have_text("Every block", timeout=STEP_MS)

        # mrkdwn: emphasis around and beside links and code, which keep their underscores.
        await expect(card.locator("strong", has_text="bold")).to_be_visible()
        await expect(card.locator("em", has_text="slanted")).to_be_visible()
        await expect(card.locator("s", has_text="gone")).to_be_visible()
        await expect(card.locator("code", has_text="a_b")).to_be_visible()
        await expect(card.locator("a[href='https://example.org/a_b_c'] strong")).to_have_text("a link")
        await expect(card.locator(".mention")).to_have_text("@Rita Radiologist")
        await expect(card.locator(".bk-fields")).to_contain_text("Field two")
        await expect(card.locator(".bk-context")).to_contain_text("a context line")
        # The sandbox fetches nothing from the internet: remote images are named, not loaded.
        await expect(card.locator(".image-placeholder")).to_contain_text("a remote scan")
        assert await card.locator("img[src^='https://']").count() == 0

        def last(kind: str) -> dict[str, Any]:
            found = [payload for payload in delivered if payload["type"] == kind]
            assert found, f"no {kind} delivered"
            return found[-1]

        async def delivered_count(kind: str, count: int) -> None:
            async with asyncio.timeout(STEP_MS / 1000):
                while len([d for d in delivered if d["type"] == kind]) < count:
                    arrived.clear()
                    await arrived.wait()

        await card.get_by_role("button", name="More actions").click()
        await card.get_by_role("menuitem", name="Two").click()
        await delivered_count("block_actions", 1)
        action = last("block_actions")["actions"][0]
        assert (action["type"], action["block_id"], action["selected_option"]["value"]) == (
            "overflow",
            "intro",
            "2",
        )

        await card.locator("select.bk-select").select_option("b")
        await delivered_count("block_actions", 2)
        assert last("block_actions")["actions"][0]["selected_option"]["value"] == "b"

        await card.get_by_role("button", name="Press").click()
        await page.get_by_role("button", name="Stop").click()
        await card.get_by_role("button", name="Press").click()
        await page.get_by_role("button", name="Do it").click()
        await delivered_count("block_actions", 3)
        pressed = last("block_actions")
        assert (pressed["actions"][0]["value"], pressed["actions"][0]["block_id"]) == ("pressed", "row")
        assert pressed["container"]["message_ts"] == message.ts
        # Slack reports the message's other inputs with every action.
        assert pressed["state"]["values"]["pick"]["t.static"]["selected_option"]["value"] == "b"

        await card.get_by_role("combobox", name="Find").fill("x")
        await delivered_count("block_suggestion", 1)
        assert last("block_suggestion")["value"] == "x"
        await card.get_by_role("option", name="x-ray").click()
        await delivered_count("block_actions", 4)
        assert last("block_actions")["actions"][0]["selected_option"]["value"] == "xray"

        await card.locator("input[type=date]").fill("2026-03-04")
        await delivered_count("block_actions", 5)
        assert last("block_actions")["actions"][0]["selected_date"] == "2026-03-04"
        await _shot(page, artifacts, "blocks-1-message")

        # chat.update redraws the message in place; a reply makes a thread.
        state.edit_message(
            message, text="Updated", blocks=[{"type": "section", "text": _text("Now updated")}]
        )
        await expect(card).to_contain_text("Now updated", timeout=STEP_MS)
        await expect(card.locator(".edited")).to_be_visible()
        state.post_message(demo.general, text="A reply in the thread", author=demo.bot, thread_ts=message.ts)
        await card.get_by_role("button", name="1 reply").click()
        await expect(page.locator("#thread-pane")).to_contain_text("A reply in the thread", timeout=STEP_MS)

        # Files dropped on the open thread are shared into that thread.
        await page.evaluate(DROP_A_PDF, "#thread-messages")
        await expect(page.locator("#thread-pane .file-card")).to_contain_text("report.pdf", timeout=STEP_MS)
        [shared] = [m for m in state.messages if m.subtype == "file_share"]
        assert shared.thread_ts == message.ts
        assert state.files[shared.file_ids[0]].filetype == "pdf"

        # A modal: required inputs are checked first, the app's errors are shown, close notifies it.
        installation = state.installations[demo.team.id]
        trigger = state.exchange_trigger(state.issue_trigger(demo.team.id, demo.member.id), demo.team.id)
        state.open_modal(trigger, MODAL, installation)
        dialog = page.get_by_role("dialog")
        await expect(dialog.get_by_role("heading")).to_have_text("A form", timeout=STEP_MS)
        assert "never shown" not in await page.content()
        await dialog.get_by_role("button", name="Save").click()
        await expect(dialog.locator(".bk-error").first).to_have_text("Please complete this required field.")
        assert not [d for d in delivered if d["type"] == "view_submission"]
        await dialog.locator("[data-block-id=name] input").fill("Ada")
        await dialog.locator("[data-block-id=kind] select").select_option("mr")
        await dialog.locator("[data-block-id=day] input").fill("2026-05-06")
        await dialog.get_by_label("Urgent").check()
        await dialog.get_by_role("button", name="Save").click()
        await delivered_count("view_submission", 1)
        values = last("view_submission")["view"]["state"]["values"]
        assert values["name"]["v"] == {"type": "plain_text_input", "value": "Ada"}
        assert values["kind"]["v"]["selected_option"]["value"] == "mr"
        assert values["day"]["v"]["selected_date"] == "2026-05-06"
        assert [o["value"] for o in values["ticks"]["v"]["selected_options"]] == ["urgent"]
        await expect(dialog.locator("[data-block-id=name] .bk-error")).to_have_text(
            "That name is taken", timeout=STEP_MS
        )
        # What the person typed survives the app's answer.
        await expect(dialog.locator("[data-block-id=name] input")).to_have_value("Ada")
        await _shot(page, artifacts, "blocks-2-modal")
        await dialog.get_by_role("button", name="Cancel").click()
        await delivered_count("view_closed", 1)
        await expect(page.get_by_role("dialog")).to_have_count(0, timeout=STEP_MS)
        assert errors == []
        await context.close()


async def _command(page: Page, text: str) -> None:
    await page.locator("#composer-input").fill(text)
    await page.locator("#composer-input").press("Enter")


async def test_a_radiologists_day_link_unflag_typos_assign_and_a_kept_list(
    browser: Browser, artifacts: Path
) -> None:
    """Walk through what a real walkthrough tripped over (issue 17's findings 1, 2, 3, 4 and 9)."""
    async with Sandbox(port=0) as sandbox:
        assert sandbox.demo is not None
        assert sandbox.emulator is not None
        assert sandbox.app is not None
        assert sandbox.slack is not None
        demo, state = sandbox.demo, sandbox.emulator.state
        account = state.account(sandbox.emulator.account_key)
        assert account is not None
        main = sorted(
            (order for order in account.live_orders() if order.accession_number.startswith("ACC")),
            key=lambda order: order.accession_number,
        )
        institution = main[0].institution_uuid
        first, second = [order for order in main if order.institution_uuid == institution][:2]
        assert first.patient_id != second.patient_id
        # The member is Ben in PostDICOM (an admin's doing: /pacs me is not open to everyone).
        store = sandbox.app.services.store
        await store.user_links.link(WorkspaceRef(None, demo.team.id), demo.member.id, BEN_UUID)
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(f"{sandbox.url}#u={demo.admin.id}")
        await expect(page.locator("#channel-title")).to_have_text("# general", timeout=STEP_MS)

        # 1. Orders of two patients are linked only once a dialog naming both is confirmed.
        await _command(page, f"/pacs link {first.accession_number} {second.accession_number}")
        question = page.locator(".message.ephemeral", has_text="different patients")
        await expect(question).to_be_visible(timeout=STEP_MS)
        assert first.connected_group_uuid == second.connected_group_uuid
        await question.get_by_role("button", name="Link anyway").click()
        dialog = page.get_by_role("alertdialog")
        await expect(dialog).to_contain_text("Link the orders of", timeout=STEP_MS)
        await _shot(page, artifacts, "day-1-link-dialog")
        await dialog.get_by_role("button", name="Link anyway").click()
        await expect(page.locator(".message.ephemeral", has_text="Linked 2 orders")).to_be_visible(
            timeout=STEP_MS
        )

        # 2. A flag comes off again.
        await _command(page, f"/pacs flag {first.accession_number} urgent")
        await expect(page.locator(".message.ephemeral", has_text="set the flag")).to_be_visible(
            timeout=STEP_MS
        )
        await _command(page, f"/pacs unflag {first.accession_number} urgent")
        await expect(page.locator(".message.ephemeral", has_text="cleared the Priority flag")).to_be_visible(
            timeout=STEP_MS
        )
        assert 1 not in first.flags

        # 3. A typo is questioned, not searched.
        await _command(page, "/pacs serach mod:CT")
        await expect(page.locator(".message.ephemeral", has_text="Did you mean search")).to_be_visible(
            timeout=STEP_MS
        )
        await _shot(page, artifacts, "day-2-did-you-mean")

        # 4. The assignee hears of it by direct message.
        await _command(page, f"/pacs assign {first.accession_number} @rita")
        await expect(page.locator(".message.ephemeral", has_text="by direct message")).to_be_visible(
            timeout=STEP_MS
        )
        im = sandbox.slack.state.im_channel(demo.bot, demo.member)
        assert any(
            "assigned this order to you" in str(m.blocks) for m in sandbox.slack.state.channel_history(im)
        )

        # 9. Flag on the third result opens a modal over the list, which stays and is redrawn.
        await _command(page, "/pacs search mod:CT")
        results = page.locator(".message.ephemeral", has_text="Search results").last
        await expect(results.get_by_role("button", name="Flag")).to_have_count(10, timeout=STEP_MS)
        listed = sandbox.slack.state.ephemeral_for(demo.admin)[-1]
        values = [
            e["value"]
            for b in listed.blocks
            for e in b.get("elements", [])
            if e.get("action_id") == FLAG_ACTION
        ]
        third = account.orders[OrderRef.decode(values[2])[1].order_uuid]
        account.update_order(third, lambda order: order.flags.pop(1, None))
        await results.get_by_role("button", name="Flag").nth(2).click()
        modal = page.get_by_role("dialog")
        await expect(modal.get_by_role("heading")).to_have_text("Flag order", timeout=STEP_MS)
        await modal.locator("select").select_option(label="Urgent")
        await _shot(page, artifacts, "day-3-flag-modal-over-the-list")
        await modal.get_by_role("button", name="Set flag").click()
        await expect(results).to_contain_text("set the flag", timeout=STEP_MS)
        await expect(results.get_by_role("button", name="Flag")).to_have_count(10)
        assert third.flags[1] == 1
        await _shot(page, artifacts, "day-4-list-kept")
        assert errors == []
        await context.close()
