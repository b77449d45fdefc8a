"""The pages behind the links the emulator hands out: a small HTML page per link, and ZIP downloads.

``/view/{token}`` names the studies a share or viewer link covers (200), says so when the link
has expired (410) or is unknown (404), and asks for the share password when there is one (401).
``/view/{token}/download`` returns the studies as a ZIP when the share allows downloads.
"""

from __future__ import annotations

import asyncio
import html
import io
import zipfile
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.sandbox.postdicom.seed import synthetic_bytes
from bot.sandbox.postdicom.state import Account, EmulatorState, Instance, Order, ShareRecord

_TITLES = {
    "view": "Viewer",
    "folder-view": "Folder viewer",
    "order-email": "Shared studies",
    "order-link": "Shared studies",
    "folder-email": "Shared folder",
    "folder-link": "Shared folder",
    "folder-upload-email": "Upload to a folder",
    "folder-upload-link": "Upload to a folder",
    "folder-user": "Shared folder",
    "folder-group": "Shared folder",
}
_UPLOAD_KINDS = frozenset({"folder-upload-email", "folder-upload-link"})


def _page(title: str, body: str, status: int = 200) -> web.Response:
    text = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)} · PostDICOM emulator</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return web.Response(text=text, status=status, content_type="text/html")


def _orders(account: Account, record: ShareRecord) -> list[Order] | None:
    if record.folder_uuid:
        folder = account.folders.get(record.folder_uuid)
        if folder is None:
            return None
        return [account.orders[item] for item in folder.order_uuids]
    return [account.orders[item] for item in record.order_uuids if not account.orders[item].deleted]


def _table(orders: list[Order]) -> str:
    if not orders:
        return "<p>No studies.</p>"
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(value))}</td>"
            for value in (
                order.patient_name,
                order.performed,
                order.modality,
                order.study_description,
                len(order.instances),
                len(order.documents),
            )
        )
        + "</tr>"
        for order in orders
    )
    head = "".join(
        f"<th>{name}</th>" for name in ("Patient", "Date", "Modality", "Study", "Images", "Documents")
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


_Entry = tuple[str, bytes | None, Order, Instance | None]


def _entries(orders: list[Order]) -> list[_Entry]:
    # Taken on the event loop: the state may change while the archive is written in a thread.
    entries: list[_Entry] = []
    for order in orders:
        for instance in list(order.instances.values()):
            path = f"{order.uuid}/{instance.series_instance_uid}/{instance.sop_instance_uid}.dcm"
            entries.append((path, instance.data, order, instance))
        for document in list(order.documents):
            entries.append(
                (f"{order.uuid}/documents/{document.uuid}-{document.file_name}", document.data, order, None)
            )
    return entries


def _zip(entries: list[_Entry]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for path, data, order, instance in entries:
            if data is None and instance is not None:
                data = synthetic_bytes(order, instance)
            archive.writestr(path, data or b"")
    return buffer.getvalue()


class LinkPages:
    """The aiohttp handlers of the link pages, over whatever state the emulator holds."""

    def __init__(
        self, state: Callable[[], EmulatorState], on_request: Callable[[], Any] | None = None
    ) -> None:
        self._state = state
        self._on_request = on_request

    def add_routes(self, app: web.Application) -> None:
        """Attach the page routes."""
        app.router.add_get("/view/{token}", self.view)
        app.router.add_get("/view/{token}/download", self.download)

    def _resolve(self, request: web.Request) -> tuple[ShareRecord, Account] | web.Response:
        if self._on_request is not None:
            self._on_request()
        state = self._state()
        record = state.shares.get(request.match_info["token"])
        account = state.account(record.account_key) if record is not None else None
        if record is None or account is None:
            return _page("Link not found", "<p>This link does not exist.</p>", 404)
        if record.expired(state.today()):
            return _page("Link expired", "<p>This link has expired.</p>", 410)
        if record.password and request.query.get("password") != record.password:
            form = (
                "<form method='get'><label>Password <input type='password' name='password'></label>"
                "<button type='submit'>Open</button></form>"
            )
            return _page("Password required", form, 401)
        return record, account

    async def view(self, request: web.Request) -> web.Response:
        """Serve the page of a share or viewer link."""
        resolved = self._resolve(request)
        if isinstance(resolved, web.Response):
            return resolved
        record, account = resolved
        title = record.title or _TITLES.get(record.kind, "Shared studies")
        if record.kind in _UPLOAD_KINDS:
            folder = account.folders.get(record.folder_uuid)
            name = folder.name if folder else "(deleted folder)"
            return _page(title, f"<p>Files uploaded here go to the folder {html.escape(name)}.</p>")
        orders = _orders(account, record)
        if orders is None:
            return _page("Link not found", "<p>The shared folder no longer exists.</p>", 404)
        parts = [f"<p>{html.escape(record.description)}</p>" if record.description else "", _table(orders)]
        if record.can_download:
            query = f"?password={html.escape(record.password)}" if record.password else ""
            parts.append(
                f"<p><a href='/view/{record.token}/download{query}'>Download the studies (ZIP)</a></p>"
            )
        return _page(title, "".join(parts))

    async def download(self, request: web.Request) -> web.Response:
        """Serve the studies of a share as a ZIP, if the share allows downloads."""
        resolved = self._resolve(request)
        if isinstance(resolved, web.Response):
            return resolved
        record, account = resolved
        if not record.can_download or record.kind in _UPLOAD_KINDS:
            return _page("Download not allowed", "<p>This share does not allow downloads.</p>", 403)
        orders = _orders(account, record)
        if orders is None:
            return _page("Link not found", "<p>The shared folder no longer exists.</p>", 404)
        archive = await asyncio.to_thread(_zip, _entries(orders))
        return web.Response(
            body=archive,
            content_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="studies-{record.token[:8]}.zip"'},
        )
