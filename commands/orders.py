"""``/pacs order new``, ``/pacs order <ref>`` and ``/pacs delete <ref>``, and their card verbs.

``order new`` opens a modal at once (the trigger lasts three seconds) and fills in the choices
that need PostDICOM when they come. Deleting asks first, checks the workspace's delete
permission both when asking and when confirmed, and fetches the order with the workspace's own
account before trashing it, so a forged button cannot reach another account's order.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.errors import describe
from bot.app.grammar import MODALITIES, OrderQuery, UsageError
from bot.app.guards import audited, require_permission
from bot.app.lookup import Lookup
from bot.app.pacs_app import PacsApp
from bot.app.request import PacsRequest
from bot.app.router import run_answering_errors
from bot.postdicom import ApiError, PatientOrder
from bot.store.audit import AuditOutcome
from bot.ui import order_forms as forms
from bot.ui.blocks import escape, message
from bot.ui.connect import channel_from_metadata
from bot.ui.order_details import (
    ORDER_DELETE_ACTION,
    delete_order_blocks,
    orders_list_blocks,
    properties_blocks,
)
from bot.ui.orders import order_card, order_ref, order_summary
from bot.ui.values import BadActionValue, OrderRef
from commands.order_actions import act_on_reference, on_order

# The callback id of the global shortcut "New order" in manifest.yml.
NEW_ORDER_SHORTCUT = "order.new_shortcut"

logger = logging.getLogger(__name__)


def has_details(order: PatientOrder) -> bool:
    """Tell whether an order came from GetPatientOrderProperties (it lists its series)."""
    return "SeriesList" in (order.model_extra or {})


async def show_properties(request: PacsRequest, lookup: Lookup, order: PatientOrder, _options: str) -> None:
    """Answer with an order's properties as a card."""
    detailed = order if has_details(order) else await lookup.order(order_ref(order))
    dictionaries = request.services.dictionaries
    key, client = request.workspace.key, lookup.handle.client
    folders = await dictionaries.folders(key, client, lookup.user)
    nodes = await dictionaries.nodes(key, client, lookup.user)
    await request.reply(
        "Order properties",
        properties_blocks(
            detailed,
            await lookup.phi(),
            await lookup.names(),
            folder_paths={entry.folder.folder_uuid.lower(): entry.path for entry in folders},
            node_names={node.dicom_node_uuid.lower(): node.name or node.ae_title for node in nodes},
        ),
    )


async def ask_to_delete(request: PacsRequest, lookup: Lookup, order: PatientOrder, _options: str) -> None:
    """Check the delete permission, then ask for confirmation."""
    uuid = order.patient_order_uuid.lower()
    settings = await request.settings()
    await require_permission(
        request, settings.delete, "delete orders", action="order.delete", order_uuids=[uuid]
    )
    await request.reply(
        "Move this order to the trash?",
        delete_order_blocks(order, settings.phi_display, await lookup.names()),
    )


def register(app: PacsApp) -> None:
    """Add ``/pacs order``, ``/pacs delete``, the properties and delete verbs, and the new-order modal."""
    services = app.services

    async def order_command(request: PacsRequest) -> None:
        text = request.text.strip()
        if not text:
            raise UsageError("say `new`, or which order to show", "/pacs order ACC0000001")
        if text.lower() == "new":
            await open_new_order(request)
            return
        await act_on_reference(app, request, "properties", text)

    async def delete_command(request: PacsRequest) -> None:
        if not request.text.strip():
            raise UsageError(
                "which order? Give an accession number or a patient ID", "/pacs delete ACC0000001"
            )
        await act_on_reference(app, request, "delete", request.text)

    async def open_new_order(request: PacsRequest) -> None:
        if not request.trigger_id:
            await request.reply("Run `/pacs order new` again: Slack did not give me a way to open the form.")
            return
        opened = await request.client.views_open(trigger_id=request.trigger_id, view=forms.loading_view())
        view_id = str((opened.get("view") or {}).get("id") or "")
        try:
            handle = await request.postdicom()
            account = handle.client.account
            institutions = account.institutions() if account else []
            nodes = await services.dictionaries.nodes(request.workspace.key, handle.client, handle.user_uuid)
        except Exception as error:
            logger.info(
                "order form could not load for team %s: %s", request.workspace.key, type(error).__name__
            )
            await request.client.views_update(
                view_id=view_id, view=forms.loading_view(problem=describe(error).text)
            )
            return
        if not institutions:
            await request.client.views_update(
                view_id=view_id,
                view=forms.loading_view(problem="The PostDICOM account has no institution to order in."),
            )
            return
        await request.client.views_update(
            view_id=view_id,
            view=forms.new_order_view(
                institutions,
                nodes,
                MODALITIES,
                request.channel_id,
                default_institution=handle.institution_uuid,
            ),
        )

    async def on_new_order(
        ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        view = body["view"]
        values = (view.get("state") or {}).get("values") or {}
        offered = _offered(view)
        form, errors = forms.read_new_order(
            values,
            today=datetime.now(UTC).date(),
            modalities=MODALITIES,
            institutions=offered[forms.INSTITUTION],
            nodes=offered[forms.NODE],
        )
        if form is None:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        request = app.request(context, body, client)
        request.channel_id = channel_from_metadata(view.get("private_metadata", ""))

        async def create(request: PacsRequest) -> None:
            lookup = await Lookup.start(request)
            accession = form.fields.get("OrderAccessionNumber", "").strip()
            existing = await lookup.search(OrderQuery(accession_number=accession)) if accession else []
            if existing:
                # Every command on a shared accession number would ask "which order?" ever after.
                await request.audit(
                    "order.create",
                    AuditOutcome.DENIED,
                    error_code="duplicate_accession",
                    order_uuids=[order.patient_order_uuid.lower() for order in existing],
                )
                await request.reply(
                    "Accession number already in use",
                    orders_list_blocks(
                        f":x: The accession number `{escape(accession)}` is already used by this order, "
                        "so I created nothing:",
                        existing,
                        await lookup.phi(),
                        await lookup.names(),
                        note="Run `/pacs order new` again with another accession number.",
                    ),
                )
                return
            async with audited(request, "order.create") as change:
                created = await lookup.handle.client.create_order_with_json(
                    lookup.user, form.institution_uuid, form.fields
                )
                if created.patient_order_uuid:
                    change.order_uuids.append(created.patient_order_uuid.lower())
            order = created.patient_order
            if order is None and created.patient_order_uuid:
                order = await lookup.order(
                    OrderRef(created.patient_order_uuid.lower(), form.institution_uuid)
                )
            if order is None:
                await request.reply(":white_check_mark: The order was created.")
                return
            await request.reply(
                "Order created",
                order_card(
                    order,
                    await lookup.phi(),
                    await lookup.names(),
                    note="Created from Slack; waiting for images.",
                ),
            )

        await run_answering_errors(request, create, name="order.new")

    async def confirm_delete(request: PacsRequest, action: dict[str, Any]) -> None:
        try:
            verb, ref = OrderRef.decode(str(action.get("value") or ""))
        except BadActionValue:
            verb, ref = "", None
        if verb != "delete" or ref is None:
            await request.reply("That button is not one of mine, so I did nothing.")
            return
        settings = await request.settings()
        await require_permission(
            request, settings.delete, "delete orders", action="order.delete", order_uuids=[ref.order_uuid]
        )
        lookup = await Lookup.start(request)
        try:
            order = await lookup.order(ref)
        except ApiError:
            await request.reply(
                "That order is no longer there; it may be in the trash already.", replace_original=True
            )
            return
        institution = (order.institution_uuid or ref.institution_uuid or "").lower()
        async with audited(request, "order.delete", order_uuids=[order.patient_order_uuid.lower()]):
            await lookup.handle.client.delete_order(lookup.user, institution, order.patient_order_uuid)
        summary = order_summary(order, settings.phi_display, await lookup.names())
        await request.reply(
            "Moved to the trash",
            message(f":wastebasket: Moved to PostDICOM's trash:\n{summary}"),
            replace_original=True,
        )

    on_order(app, "properties", show_properties, question="Which order's properties?")
    on_order(app, "delete", ask_to_delete, question="Which order should go to the trash?")
    app.router.add(
        "order",
        order_command,
        summary="Create an order (a form), or show one order's properties",
        usage="order new | order <ref>",
        examples=("/pacs order new", "/pacs order ACC0000001"),
    )
    app.router.add(
        "delete",
        delete_command,
        summary="Move an order to PostDICOM's trash (asks first)",
        usage="delete <ref>",
        examples=("/pacs delete ACC0000001",),
        aliases=("trash",),
    )
    app.action(ORDER_DELETE_ACTION, confirm_delete)
    app.bolt.view(forms.NEW_ORDER_CALLBACK)(on_new_order)

    async def new_order_shortcut(
        ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        # The global shortcut "New order" (manifest.yml): the same form as `/pacs order new`.
        await ack()
        request = app.request(context, body, client)
        await run_answering_errors(request, open_new_order, name=NEW_ORDER_SHORTCUT)

    app.bolt.shortcut(NEW_ORDER_SHORTCUT)(new_order_shortcut)


def _offered(view: dict[str, Any]) -> dict[str, set[str]]:
    """Return the option values the modal offered per select, so a submission cannot name others."""
    offered: dict[str, set[str]] = {forms.INSTITUTION: set(), forms.NODE: set()}
    for block in view.get("blocks") or []:
        block_id = block.get("block_id")
        if block_id in offered:
            element = block.get("element") or {}
            offered[block_id] = {
                str(item.get("value") or "").lower() for item in element.get("options") or []
            }
    return offered
