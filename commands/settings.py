"""``/pacs settings`` (admins): PHI display, share expiry, who may e-mail and delete, allowed channels.

The modal opens with the current settings. A submission is checked (admin again, values) while
Slack waits for the ack, so problems show on the form; saving happens after the ack.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.pacs_app import PacsApp
from bot.app.request import PacsRequest
from bot.app.router import run_answering_errors
from bot.store import WorkspaceSettings
from bot.store.audit import AuditOutcome
from bot.ui import settings as ui
from bot.ui.connect import channel_from_metadata, response_url_from_metadata


async def unknown_usergroups(request: PacsRequest, settings: WorkspaceSettings) -> dict[str, str]:
    """Ask Slack about each user group the settings name; return form errors for those it does not know."""
    errors: dict[str, str] = {}
    for block_id, permission in ((ui.EMAIL_GROUP, settings.email_share), (ui.DELETE_GROUP, settings.delete)):
        if permission.usergroup_id is None:
            continue
        try:
            await request.client.usergroups_users_list(usergroup=permission.usergroup_id)
        except SlackApiError as error:
            code = error.response.get("error") if error.response else "no answer"
            # A group Slack does not know would lock everyone out of what it guards.
            errors[block_id] = (
                f"This workspace has no user group {permission.usergroup_id}."
                if code == "no_such_subteam"
                else f"I could not check that user group (Slack said {code})."
            )
    return errors


def register(app: PacsApp) -> None:
    """Add ``/pacs settings`` and its modal."""
    services = app.services

    async def open_settings(request: PacsRequest) -> None:
        await request.require_admin("change this workspace's settings")
        if not request.trigger_id:
            await request.reply("Run `/pacs settings` again: Slack did not give me a way to open the form.")
            return
        settings = await request.settings()
        response_url = request.respond.response_url if request.respond else None
        await request.client.views_open(
            trigger_id=request.trigger_id,
            view=ui.settings_view(settings, request.channel_id, response_url=response_url),
        )

    async def on_submit(
        ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        view = body["view"]
        request = app.request(context, body, client)
        if not await request.is_admin():
            await ack(
                response_action="errors",
                errors={ui.PHI: "Only workspace admins and owners can change the settings."},
            )
            await request.audit("settings.update", AuditOutcome.DENIED, error_code="not_admin")
            return
        current = await request.settings()
        chosen, errors = ui.read_settings((view.get("state") or {}).get("values") or {}, current)
        if chosen is not None:
            errors = await unknown_usergroups(request, chosen)
        if chosen is None or errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        request.channel_id = channel_from_metadata(view.get("private_metadata", ""))
        response_url = response_url_from_metadata(view.get("private_metadata", ""))
        if response_url:
            # Answer where the command was typed, even in a channel the bot is not in.
            request.respond = AsyncRespond(response_url=response_url)

        async def save(request: PacsRequest) -> None:
            await services.store.workspace_settings.save(request.workspace, chosen)
            await request.audit("settings.update", AuditOutcome.SUCCEEDED)
            await request.reply("Settings saved", ui.settings_saved_blocks(chosen))

        await run_answering_errors(request, save, name="settings.save")

    app.router.add(
        "settings",
        open_settings,
        summary="Choose how patient data shows, share expiry, who may e-mail and delete, and where /pacs works",
        usage="settings",
        examples=("/pacs settings",),
        admin_only=True,
    )
    app.bolt.view(ui.SETTINGS_CALLBACK)(on_submit)
