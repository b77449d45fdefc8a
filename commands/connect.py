"""``/pacs connect``, ``disconnect`` and ``status``: bind the workspace to a PostDICOM account.

Keys are checked with PostDICOM while the modal's submission waits for its ack, for at most two of
Slack's three seconds: a quick verdict becomes field errors or the next step in the ack itself, a
slow one replaces the modal in place when it comes. A connection is
saved as soon as the keys work, so the second step may land on any replica.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from pydantic import SecretStr
from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.pacs_app import PacsApp
from bot.app.postdicom_clients import PostDicomAccess
from bot.app.request import PacsRequest
from bot.app.router import run_answering_errors
from bot.postdicom import AuthenticationError, PostDicomError
from bot.postdicom.validation import Kind, passes
from bot.store.audit import AuditOutcome
from bot.ui import connect as ui
from bot.ui.status import status_blocks

logger = logging.getLogger(__name__)

# How long the keys modal's submission may wait for PostDICOM before it must ack (Slack allows 3 s).
KEY_CHECK_BUDGET_SECONDS = 2.0


def register(app: PacsApp) -> None:
    """Add ``/pacs connect``, ``disconnect`` and ``status`` and the connect modals."""
    services = app.services

    async def connect(request: PacsRequest) -> None:
        await request.require_admin("connect this workspace to PostDICOM")
        if not request.trigger_id:
            await request.reply("Run `/pacs connect` again: Slack did not give me a way to open the form.")
            return
        await request.client.views_open(trigger_id=request.trigger_id, view=ui.keys_view(request.channel_id))

    async def on_keys(
        ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        view = body["view"]
        api_key = ui.submitted(view, ui.API_KEY_BLOCK, ui.KEY_ACTION)
        account_key = ui.submitted(view, ui.ACCOUNT_KEY_BLOCK, ui.KEY_ACTION)
        errors = {
            block: "This is not a PostDICOM key: it should look like 0f0f0f0f-1234-4abc-8def-0123456789ab."
            for block, key in ((ui.API_KEY_BLOCK, api_key), (ui.ACCOUNT_KEY_BLOCK, account_key))
            if not passes(Kind.GUID, key)
        }
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        request = app.request(context, body, client)
        channel = ui.channel_from_metadata(view.get("private_metadata", ""))
        if not await request.is_admin():
            await ack(
                response_action="errors",
                errors={ui.API_KEY_BLOCK: "Only workspace admins and owners can connect."},
            )
            return
        access = PostDicomAccess(
            SecretStr(api_key),
            SecretStr(account_key),
            services.settings.postdicom_router_url,
            revision="probe",
        )
        probe = asyncio.create_task(services.postdicom.probe(access))
        # Slack waits three seconds for this ack. When PostDICOM answers well within that, its verdict
        # goes into the ack itself (field errors, or the next step); otherwise the modal says
        # "checking" and is updated when the answer comes.
        done, _ = await asyncio.wait({probe}, timeout=KEY_CHECK_BUDGET_SECONDS)
        if probe not in done:
            await ack(response_action="update", view=ui.checking_view())
        try:
            account = await probe
        except PostDicomError as error:
            problem = (
                "PostDICOM did not accept these keys. Check both and try again."
                if isinstance(error, AuthenticationError)
                else "PostDICOM could not be reached to check the keys. Try again in a moment."
            )
            logger.info("connect check failed for %s: %s", request.workspace.key, type(error).__name__)
            await request.audit("workspace.connect", AuditOutcome.FAILED, error_code="keys_rejected")
            if probe in done:
                await ack(response_action="errors", errors={ui.API_KEY_BLOCK: problem})
            else:
                await client.views_update(view_id=view["id"], view=ui.keys_view(channel, problem=problem))
            return
        users = account.user_list
        first_user = users[0] if users else None
        institutions = first_user.institution_list if first_user else []
        await services.store.connections.save(
            request.workspace,
            api_key=access.api_key,
            account_key=access.account_key,
            router_url=access.router_url,
            connected_by=request.user_id,
            acting_user_uuid=first_user.user_uuid if first_user else None,
            default_institution_uuid=institutions[0].institution_uuid if institutions else None,
        )
        await services.postdicom.drop(request.workspace.key)
        await request.audit("workspace.connect", AuditOutcome.SUCCEEDED)
        next_view = ui.account_view(
            account,
            channel,
            acting_user=first_user.user_uuid if first_user else None,
            institution=institutions[0].institution_uuid if institutions else None,
        )
        if probe in done:
            await ack(response_action="update", view=next_view)
        else:
            await client.views_update(view_id=view["id"], view=next_view)

    async def on_account(
        ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        view = body["view"]
        request = app.request(context, body, client)
        if not await request.is_admin():
            await ack(
                response_action="errors",
                errors={ui.USER_BLOCK: "Only workspace admins and owners can connect."},
            )
            return
        await ack()
        request.channel_id = ui.channel_from_metadata(view.get("private_metadata", ""))

        async def save(request: PacsRequest) -> None:
            user_uuid = ui.submitted(view, ui.USER_BLOCK, ui.SELECT_ACTION)
            institution_uuid = ui.submitted(view, ui.INSTITUTION_BLOCK, ui.SELECT_ACTION) or None
            saved = await services.store.connections.set_acting_user(
                request.workspace, acting_user_uuid=user_uuid, default_institution_uuid=institution_uuid
            )
            if saved is None:
                await request.reply(
                    "The connection was removed while you were choosing. Run `/pacs connect` again."
                )
                return
            await request.audit("workspace.connect_user", AuditOutcome.SUCCEEDED)
            await request.reply(
                ":white_check_mark: PostDICOM is connected. Try `/pacs help` or `/pacs search doe`."
            )

        await run_answering_errors(request, save, name="connect.account")

    async def disconnect(request: PacsRequest) -> None:
        await request.require_admin("disconnect PostDICOM")
        removed = await services.store.connections.delete(request.workspace)
        await services.postdicom.drop(request.workspace.key)
        await request.audit(
            "workspace.disconnect", AuditOutcome.SUCCEEDED if removed else AuditOutcome.FAILED
        )
        if removed:
            await request.reply("PostDICOM is disconnected. Its keys were deleted from this app.")
        else:
            await request.reply("This workspace was not connected to PostDICOM.")

    async def status(request: PacsRequest) -> None:
        connection = await services.store.connections.get(request.workspace)
        if connection is None:
            await request.reply("Not connected", status_blocks(None))
            return
        handle = await request.postdicom()
        started = time.perf_counter()
        await handle.client.get_user_list(handle.user_uuid)
        round_trip_ms = (time.perf_counter() - started) * 1000
        await request.reply(
            "PostDICOM status",
            status_blocks(
                connection,
                account=handle.client.account,
                round_trip_ms=round_trip_ms,
                live_clients=len(services.postdicom),
            ),
        )

    router = app.router
    router.add(
        "connect",
        connect,
        summary="Connect this workspace to a PostDICOM account (opens a form for the keys)",
        usage="connect",
        examples=("/pacs connect",),
        admin_only=True,
    )
    router.add(
        "disconnect",
        disconnect,
        summary="Disconnect PostDICOM and delete its keys from this app",
        usage="disconnect",
        examples=("/pacs disconnect",),
        admin_only=True,
    )
    router.add(
        "status",
        status,
        summary="Show the connected account, the acting user and how fast PostDICOM answers",
        usage="status",
        examples=("/pacs status",),
    )
    app.bolt.view(ui.KEYS_CALLBACK)(on_keys)
    app.bolt.view(ui.ACCOUNT_CALLBACK)(on_account)
