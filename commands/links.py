"""``/pacs link <ref> <ref>…`` and ``/pacs unlink <ref>…``: order groups, which open together.

Several references in one command cannot each get a picker, so every reference must name exactly
one order; one that names several lists them (as the PHI setting allows) with their accession
numbers, which are unambiguous.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bot.app.errors import UserFacingError
from bot.app.grammar import UsageError, tokenize, unescape_slack
from bot.app.guards import audited
from bot.app.lookup import Lookup
from bot.app.pacs_app import PacsApp
from bot.app.request import PacsRequest
from bot.postdicom import PatientOrder
from bot.ui.blocks import escape
from bot.ui.order_details import is_grouped, orders_list_blocks

MAX_REFERENCES = 20


async def orders_for_references(
    request: PacsRequest, lookup: Lookup, references: Sequence[str]
) -> list[PatientOrder] | None:
    """Resolve each reference to one order, or answer which one was ambiguous and return None."""
    today = datetime.now(UTC).date()
    chosen: dict[str, PatientOrder] = {}
    for reference in references:
        found = await lookup.resolve(reference, today)
        if not found:
            raise UserFacingError(
                f"No order matches `{escape(reference)}`.", hint=f"Try `/pacs search {escape(reference)}`."
            )
        if len(found) > 1:
            await request.reply(
                f"`{reference}` matches {len(found)} orders",
                orders_list_blocks(
                    f"`{escape(reference)}` matches {len(found)} orders. Give their accession numbers instead:",
                    found,
                    await lookup.phi(),
                    await lookup.names(),
                ),
            )
            return None
        chosen.setdefault(found[0].patient_order_uuid.lower(), found[0])
    return list(chosen.values())


def _references(text: str, *, minimum: int, example: str) -> list[str]:
    references = tokenize(unescape_slack(text))
    if len(references) < minimum:
        raise UsageError(
            "give at least two orders to link"
            if minimum > 1
            else "which orders? Give accession numbers or IDs",
            example,
        )
    if len(references) > MAX_REFERENCES:
        raise UsageError(f"at most {MAX_REFERENCES} orders at a time", example)
    return references


def _institution(orders: Sequence[PatientOrder]) -> str:
    institutions = {(order.institution_uuid or "").lower() for order in orders}
    if len(institutions) != 1 or "" in institutions:
        raise UserFacingError(
            "PostDICOM links only orders of the same institution, and these are in different ones.",
            hint="Move one with `/pacs location <ref> <institution>` first.",
        )
    return institutions.pop()


def register(app: PacsApp) -> None:
    """Add ``/pacs link`` and ``/pacs unlink``."""

    async def link(request: PacsRequest) -> None:
        references = _references(request.text, minimum=2, example="/pacs link ACC0000001 ACC0000002")
        lookup = await Lookup.start(request)
        orders = await orders_for_references(request, lookup, references)
        if orders is None:
            return
        if len(orders) < 2:
            raise UsageError("those references all name the same order", "/pacs link ACC0000001 ACC0000002")
        institution = _institution(orders)
        client, user = lookup.handle.client, lookup.user
        uuids = [order.patient_order_uuid.lower() for order in orders]
        group = next((order.connected_group_uuid for order in orders if is_grouped(order)), None)
        async with audited(request, "order.link", order_uuids=uuids):
            if group is None:
                await client.create_order_group(user, institution, uuids)
            else:
                joining = [
                    order.patient_order_uuid for order in orders if order.connected_group_uuid != group
                ]
                if joining:
                    await client.add_orders_to_order_group(user, institution, group, joining)
        await request.reply(
            f"Linked {len(orders)} orders",
            orders_list_blocks(
                f":link: Linked {len(orders)} orders: they now open together in the viewer.",
                orders,
                await lookup.phi(),
                await lookup.names(),
                note="Undo with `/pacs unlink` and the same references.",
            ),
        )

    async def unlink(request: PacsRequest) -> None:
        references = _references(request.text, minimum=1, example="/pacs unlink ACC0000001")
        lookup = await Lookup.start(request)
        orders = await orders_for_references(request, lookup, references)
        if orders is None:
            return
        grouped = [order for order in orders if is_grouped(order)]
        if not grouped:
            await request.reply("None of those orders is linked to others, so there was nothing to undo.")
            return
        by_institution: dict[str, list[str]] = {}
        for order in grouped:
            by_institution.setdefault((order.institution_uuid or "").lower(), []).append(
                order.patient_order_uuid.lower()
            )
        async with audited(
            request, "order.unlink", order_uuids=[order.patient_order_uuid.lower() for order in grouped]
        ):
            for institution, uuids in by_institution.items():
                await lookup.handle.client.remove_orders_from_group(lookup.user, institution, uuids)
        skipped = len(orders) - len(grouped)
        await request.reply(
            f"Unlinked {len(grouped)} orders",
            orders_list_blocks(
                f":scissors: Unlinked {len(grouped)} order{'s' if len(grouped) != 1 else ''}: "
                "they open on their own again.",
                grouped,
                await lookup.phi(),
                await lookup.names(),
                note=f"{skipped} of them {'was' if skipped == 1 else 'were'} not linked." if skipped else "",
            ),
        )

    app.router.add(
        "link",
        link,
        summary="Link orders so they open together in the viewer (an order group)",
        usage="link <ref> <ref> [<ref>…]",
        examples=("/pacs link ACC0000001 ACC0000002",),
        aliases=("group",),
    )
    app.router.add(
        "unlink",
        unlink,
        summary="Take orders out of their order group",
        usage="unlink <ref> [<ref>…]",
        examples=("/pacs unlink ACC0000001",),
        aliases=("ungroup",),
    )
