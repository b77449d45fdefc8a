"""The ``/pacs status`` message."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.postdicom import Account
from bot.store.connections import PostDicomConnection
from bot.ui.blocks import JsonBlock, context, escape, header, section, to_json


def status_blocks(
    connection: PostDicomConnection | None,
    *,
    account: Account | None = None,
    round_trip_ms: float | None = None,
    live_clients: int | None = None,
) -> list[JsonBlock]:
    """Describe the workspace's connection, its acting user and the app's figures."""
    if connection is None:
        return to_json(
            [
                header("PostDICOM: not connected"),
                section(
                    "This workspace is not connected to PostDICOM. A workspace admin can run `/pacs connect`."
                ),
            ]
        )
    acting = account.user(connection.acting_user_uuid) if account and connection.acting_user_uuid else None
    institution = next(
        (
            item
            for item in (account.institutions() if account else [])
            if item.institution_uuid == connection.default_institution_uuid
        ),
        None,
    )
    fields = [
        f"*Acting user*\n{escape(acting.full_name or acting.user_name) if acting else '_not chosen_'}",
        f"*Default institution*\n{escape(institution.institution_name) if institution else '_none_'}",
        f"*Connected by*\n<@{connection.connected_by}>",
        f"*Connected*\n<!date^{int(connection.connected_at.timestamp())}^{{date_short}} {{time}}|{connection.connected_at:%Y-%m-%d %H:%M} UTC>",
    ]
    if round_trip_ms is not None:
        fields.append(f"*PostDICOM round trip*\n{round_trip_ms:.0f} ms")
    if account is not None:
        fields.append(f"*Account users*\n{len(account.user_list)}")
    blocks: list[Block] = [header("PostDICOM: connected"), section("", fields=fields)]
    if live_clients is not None:
        blocks.append(context(f"Live PostDICOM connections in this app process: {live_clients}"))
    return to_json(blocks)
