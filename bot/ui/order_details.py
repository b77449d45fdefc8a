"""One order in detail (``/pacs order <ref>``), the delete confirmation, and groups of linked orders.

Pure functions. Names and IDs go through :mod:`bot.ui.orders`; the other patient details (birth
date, sex, complaints) are cut here to the same PHI setting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import Block

from bot.postdicom import PatientOrder
from bot.store import PhiDisplay
from bot.ui.blocks import JsonBlock, context, divider, escape, header, section, to_json, truncate
from bot.ui.confirm import confirm_actions
from bot.ui.orders import (
    Names,
    order_blocks,
    order_ref,
    order_summary,
    patient_id,
    patient_name,
    study_date,
)

ORDER_DELETE_ACTION = "order.delete"
LINK_CONFIRM_ACTION = "order.link_patients"
MAX_NAMED_PATIENTS = 3
NO_GROUP = "00000000-0000-0000-0000-000000000000"
MAX_LISTED_ORDERS = 20
_STATUSES = {"1": "scheduled", "2": "images received"}


def is_grouped(order: PatientOrder) -> bool:
    """Tell whether an order belongs to an order group."""
    return bool(order.connected_group_uuid) and order.connected_group_uuid != NO_GROUP


def _extra(order: PatientOrder, key: str) -> str:
    value = (order.model_extra or {}).get(key)
    return value.strip() if isinstance(value, str) else ""


def _count(order: PatientOrder, key: str) -> int:
    value = (order.model_extra or {}).get(key)
    return len(value) if isinstance(value, list) else 0


def birth_date(order: PatientOrder, phi: PhiDisplay) -> str:
    """Show the birth date as the PHI setting allows: whole, the year only, or nothing."""
    value = order.patient_birthdate.strip()
    if not value or phi is PhiDisplay.HIDDEN:
        return ""
    digits = value.replace("-", "")
    if len(digits) >= 8 and digits[:8].isdigit():
        value = f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"
    return value[:4] if phi is PhiDisplay.INITIALS else value


def _size(kib: float) -> str:
    return f"{kib / 1024:.1f} MB" if kib >= 1024 else f"{kib:.0f} KB"


def properties_blocks(
    order: PatientOrder,
    phi: PhiDisplay,
    names: Names,
    *,
    folder_paths: Mapping[str, str],
    node_names: Mapping[str, str],
) -> list[JsonBlock]:
    """Render an order's properties as a readable card, with the usual buttons."""
    other_id = patient_id(order.model_copy(update={"patient_id": order.other_patient_id}), phi)
    patient = [
        ("Other ID", escape(other_id)),
        ("Born", birth_date(order, phi)),
        ("Sex", escape(order.patient_sex) if phi is not PhiDisplay.HIDDEN else ""),
        ("Complaints", escape(_extra(order, "PatientComplaints")) if phi is PhiDisplay.FULL else ""),
    ]
    status = _STATUSES.get(str(order.order_status), str(order.order_status or ""))
    series = _count(order, "SeriesList")
    documents = order.documents_count or _count(order, "DocumentList")
    node = _extra(order, "ScheduledEquipmentUuid").lower()
    study = [
        ("Accession", f"`{escape(order.accession_number)}`" if order.accession_number else ""),
        ("Modality", escape(order.order_modality)),
        ("Study date", study_date(order)),
        ("Study", escape(order.study_description)),
        ("Procedure", escape(order.requesting_procedure_description)),
        ("Procedure ID", escape(_extra(order, "RequestedProcedureId"))),
        ("Status", status),
        (
            "Content",
            f"{order.images_count} image{'s' if order.images_count != 1 else ''}"
            + (f" in {series} series" if series else "")
            + (f", {documents} document{'s' if documents != 1 else ''}" if documents else "")
            + (f", {_size(order.order_size)}" if order.order_size else ""),
        ),
    ]
    ordering = [
        ("Institution", escape(order.institution_name)),
        ("Referring physician", escape(_extra(order, "ReferringPhysiciansName"))),
        ("Requesting physician", escape(_extra(order, "RequestingPhysician"))),
        ("Scheduled on", escape(node_names.get(node, "a DICOM node")) if node else ""),
        ("Order group", "linked with other orders" if is_grouped(order) else ""),
        (
            "Folders",
            ", ".join(
                escape(folder_paths.get(uuid.lower(), "a folder")) for uuid in order.folder_uuid_list[:10]
            ),
        ),
    ]
    blocks: list[Block] = [header("Order properties"), *order_blocks(order, phi, names)]
    for title, rows in (("Patient", patient), ("Study", study), ("Ordering", ordering)):
        fields = [f"*{name}*\n{truncate(value, 1900)}" for name, value in rows if value]
        if fields:
            blocks.append(section(f"*{title}*", fields=fields))
    blocks.append(context(f"Patient details shown as the workspace's PHI setting allows ({phi.value})."))
    return to_json(blocks)


def delete_order_blocks(order: PatientOrder, phi: PhiDisplay, names: Names) -> list[JsonBlock]:
    """Ask whether to move an order to PostDICOM's trash."""
    return to_json(
        [
            section(
                f":wastebasket: Move this order to PostDICOM's trash?\n{order_summary(order, phi, names)}"
            ),
            confirm_actions(
                label="Move to trash",
                action_id=ORDER_DELETE_ACTION,
                value=order_ref(order).encode("delete"),
                title="Delete order?",
                question="The order leaves searches, folders and its order group. It can be restored only in PostDICOM.",
                yes="Move to trash",
            ),
        ]
    )


def orders_list_blocks(
    title: str, orders: Sequence[PatientOrder], phi: PhiDisplay, names: Names, *, note: str = ""
) -> list[JsonBlock]:
    """List orders briefly (no buttons) under a title, e.g. after linking them."""
    blocks: list[Block] = [section(title)]
    for index, order in enumerate(orders[:MAX_LISTED_ORDERS]):
        if index:
            blocks.append(divider())
        blocks.append(section(order_summary(order, phi, names)))
    if len(orders) > MAX_LISTED_ORDERS:
        blocks.append(context(f"and {len(orders) - MAX_LISTED_ORDERS} more"))
    if note:
        blocks.append(context(note))
    return to_json(blocks)


def patient_label(order: PatientOrder, phi: PhiDisplay) -> str:
    """Name an order's patient as the PHI setting allows, with the ID when it may be shown."""
    shown_id = patient_id(order, phi)
    name = patient_name(order, phi)
    return f"{name} (ID {shown_id})" if shown_id else f"{name} (acc {order.accession_number or '?'})"


def link_patients_blocks(
    patients: Sequence[Sequence[PatientOrder]], phi: PhiDisplay, names: Names, *, value: str
) -> list[JsonBlock]:
    """Ask before linking orders of different patients, naming each patient in the message and the dialog."""
    labels = [patient_label(orders[0], phi) for orders in patients]
    named = labels[:MAX_NAMED_PATIENTS]
    more = len(labels) - len(named)
    listed = ", ".join(named[:-1]) + f" and {named[-1]}" if len(named) > 1 else named[0]
    if more:
        listed = ", ".join(named) + f" and {more} more"
    orders = [order for group in patients for order in group]
    blocks: list[Block] = [
        section(
            f":warning: These orders belong to {len(patients)} different patients: {escape(listed)}. "
            "Linked orders open together in the viewer, so one patient's images could be read as "
            "another's. Nothing was linked."
        )
    ]
    for order in orders[:MAX_LISTED_ORDERS]:
        blocks.append(section(order_summary(order, phi, names)))
    blocks.append(
        confirm_actions(
            label="Link anyway",
            action_id=LINK_CONFIRM_ACTION,
            value=value,
            title="Link different patients?",
            question=f"Link the orders of {escape(listed)}? They will open together in the viewer.",
            yes="Link anyway",
        )
    )
    return to_json(blocks)
