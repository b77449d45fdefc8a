"""``/pacs link <ref> <ref>…`` and ``/pacs unlink <ref>…``: order groups, which open together.

Several references in one command cannot each get a picker, so every reference must name exactly
one order; one that names several lists them (as the PHI setting allows) with their accession
numbers, which are unambiguous.

Linked orders open together in the viewer, so orders of different patients (neither the patient
ID nor the name in common) are linked only after the user confirms a dialog naming each patient.
Unlinking an order that leaves a single other order in its group unlinks that one too: a group of
one would still say "linked with other orders".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.app.errors import UserFacingError
from bot.app.grammar import OrderQuery, UsageError, tokenize, unescape_slack
from bot.app.guards import audited
from bot.app.lookup import Lookup
from bot.app.matching import fold
from bot.app.pacs_app import PacsApp
from bot.app.request import PacsRequest
from bot.postdicom import PatientOrder
from bot.ui.blocks import escape
from bot.ui.order_details import LINK_CONFIRM_ACTION, is_grouped, link_patients_blocks, orders_list_blocks
from bot.ui.orders import order_ref
from bot.ui.values import BadActionValue, OrderRef

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


def same_patient(first: PatientOrder, second: PatientOrder) -> bool:
    """Tell whether two orders name the same patient: the same patient ID or the same name."""
    first_id, second_id = first.patient_id.strip().casefold(), second.patient_id.strip().casefold()
    if first_id and first_id == second_id:
        return True
    first_name, second_name = fold(first.patient_name), fold(second.patient_name)
    return bool(first_name) and first_name == second_name


def patients_of(orders: Sequence[PatientOrder]) -> list[list[PatientOrder]]:
    """Gather orders by patient, joining any two that share a patient ID or a name."""
    patients: list[list[PatientOrder]] = []
    for order in orders:
        joined = [patient for patient in patients if any(same_patient(order, other) for other in patient)]
        merged = [order]
        for patient in joined:
            patients.remove(patient)
            merged = patient + merged
        patients.append(merged)
    return patients


def encode_refs(orders: Sequence[PatientOrder]) -> str:
    """Carry orders in a button value: their UUIDs and institutions, no patient data."""
    return ",".join(order_ref(order).encode("link") for order in orders)


def decode_refs(value: str) -> list[OrderRef]:
    """Read a value made by :func:`encode_refs`; anything else is refused."""
    refs = []
    for part in value.split(","):
        verb, ref = OrderRef.decode(part)
        if verb != "link":
            raise BadActionValue("not a link value")
        refs.append(ref)
    if not 2 <= len(refs) <= MAX_REFERENCES:
        raise BadActionValue("not a link value")
    return refs


async def link_orders(
    request: PacsRequest, lookup: Lookup, orders: Sequence[PatientOrder], *, replace: bool = False
) -> None:
    """Put orders in one order group (joining a group one of them is in) and say so."""
    institution = _institution(orders)
    client, user = lookup.handle.client, lookup.user
    uuids = [order.patient_order_uuid.lower() for order in orders]
    group = next((order.connected_group_uuid for order in orders if is_grouped(order)), None)
    async with audited(request, "order.link", order_uuids=uuids):
        if group is None:
            await client.create_order_group(user, institution, uuids)
        else:
            joining = [order.patient_order_uuid for order in orders if order.connected_group_uuid != group]
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
        replace_original=replace,
    )


async def left_alone(lookup: Lookup, unlinked: Sequence[PatientOrder]) -> list[PatientOrder]:
    """Find the orders that unlinking left as the only member of their group."""
    groups = {(order.connected_group_uuid or "").lower() for order in unlinked}
    gone = {order.patient_order_uuid.lower() for order in unlinked}
    queries = {OrderQuery(patient_id=order.patient_id) for order in unlinked if order.patient_id.strip()}
    queries |= {OrderQuery(patient_name=order.patient_name) for order in unlinked if order.patient_name}
    members: dict[str, PatientOrder] = {}
    for query in queries:
        for order in await lookup.search(query):
            uuid = order.patient_order_uuid.lower()
            if (
                is_grouped(order)
                and (order.connected_group_uuid or "").lower() in groups
                and uuid not in gone
            ):
                members[uuid] = order
    by_group: dict[str, list[PatientOrder]] = {}
    for order in members.values():
        by_group.setdefault((order.connected_group_uuid or "").lower(), []).append(order)
    return [group[0] for group in by_group.values() if len(group) == 1]


def register(app: PacsApp) -> None:
    """Add ``/pacs link``, ``/pacs unlink`` and the confirmation of a link across patients."""

    async def link(request: PacsRequest) -> None:
        references = _references(request.text, minimum=2, example="/pacs link ACC0000001 ACC0000002")
        lookup = await Lookup.start(request)
        orders = await orders_for_references(request, lookup, references)
        if orders is None:
            return
        if len(orders) < 2:
            raise UsageError("those references all name the same order", "/pacs link ACC0000001 ACC0000002")
        _institution(orders)
        patients = patients_of(orders)
        if len(patients) > 1:
            await request.reply(
                "These orders belong to different patients",
                link_patients_blocks(
                    patients, await lookup.phi(), await lookup.names(), value=encode_refs(orders)
                ),
            )
            return
        await link_orders(request, lookup, orders)

    async def confirm_link(request: PacsRequest, action: dict[str, Any]) -> None:
        try:
            refs = decode_refs(str(action.get("value") or ""))
        except BadActionValue:
            await request.reply("That button is not one of mine, so I did nothing.")
            return
        lookup = await Lookup.start(request)
        # Fetched again with the workspace's own account: the orders may have changed meanwhile.
        orders = [await lookup.order(ref) for ref in refs]
        await link_orders(request, lookup, orders, replace=True)

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
        alone = await left_alone(lookup, grouped)
        if alone:
            async with audited(
                request, "order.unlink", order_uuids=[order.patient_order_uuid.lower() for order in alone]
            ):
                for order in alone:
                    await lookup.handle.client.remove_orders_from_group(
                        lookup.user, (order.institution_uuid or "").lower(), [order.patient_order_uuid]
                    )
        skipped = len(orders) - len(grouped)
        notes = [f"{skipped} of them {'was' if skipped == 1 else 'were'} not linked."] if skipped else []
        notes += [
            f"`{escape(order.accession_number or order.patient_order_uuid)}` was left alone in its group, "
            "so it was unlinked too."
            for order in alone
        ]
        await request.reply(
            f"Unlinked {len(grouped)} orders",
            orders_list_blocks(
                f":scissors: Unlinked {len(grouped)} order{'s' if len(grouped) != 1 else ''}: "
                "they open on their own again.",
                grouped,
                await lookup.phi(),
                await lookup.names(),
                note=" ".join(notes),
            ),
        )

    app.action(LINK_CONFIRM_ACTION, confirm_link)
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
