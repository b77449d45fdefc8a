"""Who may do a sensitive thing (delete, share by e-mail), and the audit entry every change leaves.

A permission names an audience: everyone, workspace admins, the members of one Slack user group,
or nobody. User-group membership is asked of Slack (``usergroups.users.list``); when Slack cannot
answer, the answer is no.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError

from bot.app.errors import NotAllowed
from bot.app.request import PacsRequest
from bot.postdicom import ApiError, InvalidParameter, TransportError
from bot.store import Audience, Permission
from bot.store.audit import AuditOutcome

logger = logging.getLogger(__name__)


async def in_usergroup(request: PacsRequest, usergroup_id: str) -> bool:
    """Tell whether the requesting user is in a Slack user group (no when Slack cannot say)."""
    try:
        response = await request.client.usergroups_users_list(usergroup=usergroup_id)
    except SlackApiError as error:
        logger.info(
            "usergroups.users.list failed for team %s: %s",
            request.workspace.key,
            error.response.get("error") if error.response else "no answer",
        )
        return False
    return request.user_id in (response.get("users") or [])


async def permits(request: PacsRequest, permission: Permission) -> bool:
    """Tell whether the requesting user is in the permission's audience."""
    if permission.audience is Audience.EVERYONE:
        return True
    if permission.audience is Audience.ADMINS:
        return await request.is_admin()
    if permission.audience is Audience.USERGROUP and permission.usergroup_id:
        return await in_usergroup(request, permission.usergroup_id)
    return False


def setting_for(what: str) -> str:
    """Name the `/pacs settings` field that decides who may do something."""
    return "Who may delete orders and folders" if "delete" in what else "Who may share by e-mail"


def _refusal(permission: Permission, what: str) -> NotAllowed:
    field = f"`/pacs settings` → *{setting_for(what)}*"
    if permission.audience is Audience.ADMINS:
        return NotAllowed(
            f"Only workspace admins and owners may {what}.",
            hint=f"Ask one of them, or ask them to change {field}.",
        )
    if permission.audience is Audience.USERGROUP:
        return NotAllowed(
            f"Only members of the user group chosen in {field} may {what}, "
            "and I could not confirm that you are one.",
            hint="Ask a member, or an admin to change the setting.",
        )
    return NotAllowed(
        f"Nobody may {what} from Slack in this workspace.", hint=f"An admin can change {field}."
    )


async def require_permission(
    request: PacsRequest,
    permission: Permission,
    what: str,
    *,
    action: str,
    order_uuids: Sequence[str] = (),
    folder_uuids: Sequence[str] = (),
) -> None:
    """Raise NotAllowed (and audit the refusal) unless the requesting user is in the audience."""
    if await permits(request, permission):
        return
    await request.audit(
        action,
        AuditOutcome.DENIED,
        order_uuids=order_uuids,
        folder_uuids=folder_uuids,
        error_code="not_permitted",
    )
    raise _refusal(permission, what)


def error_code(error: BaseException) -> str:
    """Name an error for the audit log without any of its text."""
    if isinstance(error, InvalidParameter):
        return "invalid_parameter"
    if isinstance(error, ApiError):
        return "postdicom_refused"
    if isinstance(error, TransportError):
        return "postdicom_unreachable"
    return "failed"


@dataclass
class Change:
    """What an audited change touched; the block adds what it created (a folder, an order)."""

    order_uuids: list[str] = field(default_factory=list)
    folder_uuids: list[str] = field(default_factory=list)


@contextlib.asynccontextmanager
async def audited(
    request: PacsRequest, action: str, *, order_uuids: Sequence[str] = (), folder_uuids: Sequence[str] = ()
) -> AsyncIterator[Change]:
    """Audit a change: succeeded when the block ends, failed (with a code, no text) when it raises."""
    change = Change(list(order_uuids), list(folder_uuids))
    try:
        yield change
    except Exception as error:
        await request.audit(
            action,
            AuditOutcome.FAILED,
            order_uuids=change.order_uuids,
            folder_uuids=change.folder_uuids,
            error_code=error_code(error),
        )
        raise
    await request.audit(
        action, AuditOutcome.SUCCEEDED, order_uuids=change.order_uuids, folder_uuids=change.folder_uuids
    )
