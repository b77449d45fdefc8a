"""``/pacs nodes``: the account's DICOM nodes, from the cached dictionary."""

from __future__ import annotations

from bot.app.pacs_app import PacsApp
from bot.app.request import PacsRequest
from bot.ui.directory import nodes_blocks


def register(app: PacsApp) -> None:
    """Add ``/pacs nodes``."""

    async def nodes(request: PacsRequest) -> None:
        handle = await request.postdicom()
        found = await request.services.dictionaries.nodes(
            request.workspace.key, handle.client, handle.user_uuid
        )
        await request.reply(f"{len(found)} DICOM nodes", nodes_blocks(found))

    app.router.add(
        "nodes",
        nodes,
        summary="List the PostDICOM account's DICOM nodes (AE title, host, port)",
        usage="nodes",
        examples=("/pacs nodes",),
        aliases=("node",),
    )
