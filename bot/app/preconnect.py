"""Single-workspace mode: connect the workspace from PACSBOT_POSTDICOM_* at start-up."""

from __future__ import annotations

import logging

from bot.app.pacs_app import PacsApp
from bot.app.postdicom_clients import PostDicomAccess
from bot.postdicom import PostDicomError
from bot.settings import Settings
from bot.store import WorkspaceRef

logger = logging.getLogger(__name__)


async def preconnect_single_workspace(app: PacsApp, settings: Settings) -> None:
    """Bind the bot token's workspace to the configured PostDICOM account, unless already bound to it."""
    api_key, account_key = settings.postdicom_api_key, settings.postdicom_account_key
    if api_key is None or account_key is None:
        return
    identity = await app.bolt.client.auth_test()
    workspace = WorkspaceRef(identity.get("enterprise_id"), identity.get("team_id"))
    existing = await app.services.store.connections.get(workspace)
    same_keys = existing is not None and (
        existing.api_key.get_secret_value() == api_key.get_secret_value()
        and existing.account_key.get_secret_value() == account_key.get_secret_value()
    )
    if same_keys and existing is not None and existing.acting_user_uuid is not None:
        return
    access = PostDicomAccess(api_key, account_key, settings.postdicom_router_url, revision="probe")
    try:
        account = await app.services.postdicom.probe(access)
    except PostDicomError as error:
        # Start anyway: /pacs status and every command will say what is wrong.
        logger.warning("could not check the configured PostDICOM keys at start-up: %s", type(error).__name__)
        account = None
    first_user = account.user_list[0] if account and account.user_list else None
    institutions = first_user.institution_list if first_user else []
    await app.services.store.connections.save(
        workspace,
        api_key=api_key,
        account_key=account_key,
        router_url=settings.postdicom_router_url,
        connected_by=str(identity.get("user_id") or "USLACKBOT"),
        acting_user_uuid=first_user.user_uuid if first_user else None,
        default_institution_uuid=institutions[0].institution_uuid if institutions else None,
    )
    logger.info("workspace %s connected to PostDICOM from the environment", workspace.key)
