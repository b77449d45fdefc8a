"""A whole session at DEBUG: nothing secret or about a patient reaches the log output.

The scenario connects a workspace by typing the PostDICOM keys into the modal, searches by
patient name, ID and accession number, shares an order's link, uploads a DICOM file shared in the
channel, and runs into a PostDICOM failure, all with ``PACSBOT_LOG_LEVEL=DEBUG``. Then it searches everything the log handler wrote for every token,
key, patient value and URL the session used.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from bot.app.postdicom_clients import PostDicomAccess
from bot.logs import configure_logging
from bot.sandbox.postdicom import DEMO_ACCOUNT_KEY, DEMO_API_KEY, PostDicomEmulator
from bot.sandbox.postdicom.seed import ADA_UUID, MAIN_INSTITUTION_UUID
from bot.store import UploadMode
from bot.ui import connect as connect_ui
from bot.ui.orders import SHARE_ACTION
from tests.app.harness import Scenario, Transport, eventually, scenario
from tests.app.uploads_support import set_channel, share, thread_says
from tests.dicom.samples import ct_image

UPLOADED_PATIENT = "WHITMORE^ISOBEL^GRACE"
UPLOADED_PATIENT_ID = "MRN-58213377"
UPLOADED_ACCESSION = "ACX-20261102-77"

pytestmark = pytest.mark.usefixtures("restore_logging")


async def _connect_by_typing_the_keys(world: Scenario) -> None:
    admin = world.demo.admin
    await world.command(admin, "connect")
    keys = await world.modal(admin, connect_ui.KEYS_CALLBACK)
    await world.submit(
        keys,
        {
            connect_ui.API_KEY_BLOCK: {connect_ui.KEY_ACTION: DEMO_API_KEY},
            connect_ui.ACCOUNT_KEY_BLOCK: {connect_ui.KEY_ACTION: DEMO_ACCOUNT_KEY},
        },
    )
    account = await world.modal(admin, connect_ui.ACCOUNT_CALLBACK)
    await world.submit(
        account,
        {
            connect_ui.USER_BLOCK: {connect_ui.SELECT_ACTION: ADA_UUID},
            connect_ui.INSTITUTION_BLOCK: {connect_ui.SELECT_ACTION: MAIN_INSTITUTION_UUID},
        },
    )
    await world.ephemeral(admin, "PostDICOM is connected")


async def _answered(world: Scenario, text: str) -> None:
    """Run a command as the member and wait for its answer."""
    before = len(world.slack.state.ephemeral_for(world.demo.member))
    await world.command(world.demo.member, text)
    await eventually(
        lambda: len(world.slack.state.ephemeral_for(world.demo.member)) > before,
        what=f"an answer to {text!r}",
    )


async def _open_a_link(world: Scenario, emulator: PostDicomEmulator, order_uuid: str) -> list[str]:
    """Share the order from its card when the app can; else ask for a viewer link through the app's client."""
    card = await world.ephemeral(world.demo.member, "Search results")
    if "share" in world.app.app.extensions.get("order_verbs", {}):
        await world.click(world.demo.member, SHARE_ACTION, message=card)
        await eventually(lambda: emulator.state.shares_of(DEMO_ACCOUNT_KEY), what="a share link")
    if not emulator.state.shares_of(DEMO_ACCOUNT_KEY):
        connection = await world.app.services.store.connections.get(world.workspace)
        assert connection is not None
        access = PostDicomAccess(
            connection.api_key, connection.account_key, connection.router_url, str(connection.version)
        )
        client = await world.app.services.postdicom.get(world.workspace.key, access)
        link = await client.get_view_url(ADA_UUID, order_uuid)
        return [link.url]
    return [record.url for record in emulator.state.shares_of(DEMO_ACCOUNT_KEY)]


@pytest.mark.parametrize(
    ("transport", "log_format"), [("http", "text"), ("socket", "json")], ids=["http-text", "socket-json"]
)
async def test_debug_logs_of_a_whole_session_hold_no_secret_and_no_patient_value(
    tmp_path: Path, emulator: PostDicomEmulator, transport: Transport, log_format: str
) -> None:
    output = io.StringIO()
    handler = configure_logging("DEBUG", log_format)
    handler.setStream(output)
    account = emulator.state.account(DEMO_ACCOUNT_KEY)
    assert account is not None
    order = next(
        order
        for order in account.orders.values()
        if order.accession_number and order.patient_id and order.patient_name.count("^") == 1
    )
    async with scenario(tmp_path, transport=transport, postdicom_router_url=emulator.router_url) as world:
        settings = world.app.services.settings
        await _connect_by_typing_the_keys(world)
        member = world.demo.member
        for text in (
            f"search {order.patient_name.replace('^', ' ')}",
            f"search id:{order.patient_id}",
            f"search acc:{order.accession_number}",
            "status",
        ):
            await _answered(world, text)
        urls = await _open_a_link(world, emulator, order.uuid)
        await set_channel(world, UploadMode.AUTO)
        upload = await share(
            world,
            "chest.dcm",
            ct_image(patient=UPLOADED_PATIENT, patient_id=UPLOADED_PATIENT_ID, accession=UPLOADED_ACCESSION),
        )
        await thread_says(world, upload.message.ts, ":white_check_mark:")
        # A failure on the way: PostDICOM refuses every request, and the app logs it.
        emulator.faults.set(DEMO_ACCOUNT_KEY, error_rate=1.0)
        await _answered(world, f"search {order.patient_id}")
        await world.ephemeral(member, ":x:")
    logging.getLogger().removeHandler(handler)
    text = output.getvalue()

    # The run logged at DEBUG, from our own code, in the format asked for.
    assert " DEBUG " in text or '"level": "DEBUG"' in text
    if log_format == "json":
        assert all(json.loads(line) for line in text.splitlines())
    forbidden = {
        "Slack bot token": world.demo.installation.bot_token,
        "signing secret": world.signing_secret,
        "encryption key": settings.encryption_key.get_secret_value() if settings.encryption_key else "",
        "PostDICOM API key": DEMO_API_KEY,
        "PostDICOM account key": DEMO_ACCOUNT_KEY,
        "patient name": order.patient_name,
        "patient name as typed": order.patient_name.replace("^", " "),
        "patient ID": order.patient_id,
        "accession number": order.accession_number,
        "uploaded patient name": UPLOADED_PATIENT,
        "uploaded patient ID": UPLOADED_PATIENT_ID,
        "uploaded accession number": UPLOADED_ACCESSION,
        "uploaded file's URL": world.slack.state.urls.file_download(upload.file),
        **{f"link {number}": url for number, url in enumerate(urls)},
        **{f"link token {number}": url.rstrip("/").rsplit("/", 1)[-1] for number, url in enumerate(urls)},
    }
    if transport == "socket":
        forbidden["Slack app token"] = world.slack.app.app_token
    forbidden.update(
        {
            f"patient name part {part}": part
            for name in (order.patient_name, UPLOADED_PATIENT)
            for part in name.split("^")
            if len(part) >= 4
        }
    )
    assert urls
    leaks = {what: value for what, value in forbidden.items() if value and value in text}
    assert not leaks, f"the log output shows {sorted(leaks)}"
