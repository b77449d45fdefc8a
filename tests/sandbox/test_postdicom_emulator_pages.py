"""The pages behind the emulator's links: study lists, expiry, passwords and ZIP downloads."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import aiohttp
import pydicom

from bot.postdicom import PostDicomClient
from bot.sandbox.postdicom import (
    ADA_UUID,
    CASES_FOLDER_UUID,
    CT_ORDER_UUID,
    DEMO_ACCOUNT_KEY,
    MAIN_INSTITUTION_UUID,
    MR_ORDER_UUID,
    PostDicomEmulator,
)
from bot.sandbox.postdicom.state import Account, Document


def demo(emulator: PostDicomEmulator) -> Account:
    account = emulator.state.account(DEMO_ACCOUNT_KEY)
    assert account is not None
    return account


async def fetch(http: aiohttp.ClientSession, url: str) -> tuple[int, str, bytes]:
    async with http.get(url) as reply:
        return reply.status, reply.content_type, await reply.read()


async def test_a_share_page_names_its_studies_and_downloads_them_as_zip(
    emulator: PostDicomEmulator, client: PostDicomClient, http: aiohttp.ClientSession
) -> None:
    synthetic = next(order for order in demo(emulator).live_orders() if order.patient_id.startswith("PD"))
    demo(emulator).orders[CT_ORDER_UUID].documents.append(
        Document(
            "d0c0d0c0-0000-4000-8000-000000000001", "note.pdf", "application/pdf", b"%PDF-1.4 note", ADA_UUID
        )
    )
    link = await client.create_quick_share_link(ADA_UUID, [CT_ORDER_UUID, synthetic.uuid], True)
    status, kind, body = await fetch(http, link.url)
    assert (status, kind) == (200, "text/html")
    page = body.decode()
    assert "CompressedSamples^CT1" in page
    assert "/download" in page
    status, kind, archive = await fetch(http, link.url + "/download")
    assert (status, kind) == (200, "application/zip")
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        names = opened.namelist()
        images = [name for name in names if name.endswith(".dcm")]
        assert len(images) == 1 + len(synthetic.instances)
        for name in images:
            dataset = pydicom.dcmread(io.BytesIO(opened.read(name)))
            assert name.startswith(CT_ORDER_UUID if dataset.PatientID == "1CT1" else synthetic.uuid)
            assert dataset.SOPInstanceUID in name
        ct_image = next(name for name in images if name.startswith(CT_ORDER_UUID))
        assert (
            opened.read(ct_image)
            == demo(emulator)
            .orders[CT_ORDER_UUID]
            .instances[pydicom.dcmread(io.BytesIO(opened.read(ct_image))).SOPInstanceUID]
            .data
        )
        assert opened.read(f"{CT_ORDER_UUID}/documents/d0c0d0c0-0000-4000-8000-000000000001-note.pdf") == (
            b"%PDF-1.4 note"
        )


async def test_a_share_without_download_refuses_the_zip(
    client: PostDicomClient, http: aiohttp.ClientSession
) -> None:
    link = await client.create_quick_share_link(ADA_UUID, [MR_ORDER_UUID], False)
    status, _, body = await fetch(http, link.url)
    assert status == 200
    assert b"/download" not in body
    assert (await fetch(http, link.url + "/download"))[0] == 403


async def test_expired_links_answer_410_and_unknown_ones_404(
    emulator: PostDicomEmulator, client: PostDicomClient, http: aiohttp.ClientSession
) -> None:
    old = await client.create_quick_share_link_with_expire_date(ADA_UUID, [CT_ORDER_UUID], True, "2020-01-01")
    assert (await fetch(http, old.url))[0] == 410
    assert (await fetch(http, old.url + "/download"))[0] == 410
    dated = await client.create_quick_share_link_with_expire_date(
        ADA_UUID, [CT_ORDER_UUID], True, "2026-03-10"
    )
    emulator.state.clock = lambda: datetime(2026, 3, 10, 23, 59)
    assert (await fetch(http, dated.url))[0] == 200
    emulator.state.clock = lambda: datetime(2026, 3, 11, 0, 0)
    assert (await fetch(http, dated.url))[0] == 410
    assert (await fetch(http, f"{emulator.base_url}/view/no-such-token"))[0] == 404


async def test_password_protected_shares_ask_for_the_password(
    emulator: PostDicomEmulator, client: PostDicomClient, http: aiohttp.ClientSession
) -> None:
    link = await client.share_folder_with_url(
        ADA_UUID, CASES_FOLDER_UUID, "s3cret", "Cases", "For review", "2099-12-31", True
    )
    status, _, body = await fetch(http, link.url)
    assert status == 401
    assert b"password" in body
    assert (await fetch(http, link.url + "?password=wrong"))[0] == 401
    status, _, body = await fetch(http, link.url + "?password=s3cret")
    assert status == 200
    assert b"For review" in body
    assert b"CompressedSamples^CT1" in body
    assert (await fetch(http, link.url + "/download?password=s3cret"))[0] == 200
    await client.share_patient_order(ADA_UUID, [MR_ORDER_UUID], "doc@example.org", "", True)
    mailed = next(record for record in emulator.state.shares_of() if record.kind == "order-email")
    assert (await fetch(http, mailed.url))[0] == 401
    assert (await fetch(http, f"{mailed.url}?password={mailed.password}"))[0] == 200


async def test_folder_views_follow_the_folder(client: PostDicomClient, http: aiohttp.ClientSession) -> None:
    made = await client.create_folder(ADA_UUID, "", "Shown")
    assert made.folder_uuid is not None
    await client.add_order_to_folder(ADA_UUID, MAIN_INSTITUTION_UUID, MR_ORDER_UUID, [made.folder_uuid])
    link = await client.get_folder_view_url(ADA_UUID, made.folder_uuid)
    status, _, body = await fetch(http, link.url)
    assert status == 200
    assert b"CompressedSamples^MR1" in body
    assert (await fetch(http, link.url + "/download"))[0] == 403
    await client.delete_folder(ADA_UUID, made.folder_uuid)
    assert (await fetch(http, link.url))[0] == 404


async def test_view_pages_drop_orders_moved_to_the_trash(
    client: PostDicomClient, http: aiohttp.ClientSession
) -> None:
    link = await client.get_view_url(ADA_UUID, MR_ORDER_UUID)
    await client.delete_order(ADA_UUID, MAIN_INSTITUTION_UUID, MR_ORDER_UUID)
    status, _, body = await fetch(http, link.url)
    assert status == 200
    assert b"No studies" in body


async def test_upload_share_pages_name_the_folder(
    emulator: PostDicomEmulator, client: PostDicomClient, http: aiohttp.ClientSession
) -> None:
    link = await client.share_folder_to_upload_with_url(
        ADA_UUID, CASES_FOLDER_UUID, "", "Send us images", "", "2099-12-31", True, MAIN_INSTITUTION_UUID
    )
    status, _, body = await fetch(http, link.url)
    assert status == 200
    assert b"Send us images" in body
    assert b"Cases" in body
    assert (await fetch(http, link.url + "/download"))[0] == 403
    assert emulator.stats.http["pages"] == 2
