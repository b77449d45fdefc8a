"""The ``/pacs settings`` modal: the workspace's choices, and reading a submission back into them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from slack_sdk.models.blocks import (
    Block,
    ConversationFilter,
    ConversationMultiSelectElement,
    InputBlock,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.store import Audience, Permission, PhiDisplay, WorkspaceSettings
from bot.store.settings import MAX_SHARE_EXPIRY_DAYS
from bot.ui.blocks import JsonBlock, context, header, option, section, to_json
from bot.ui.connect import metadata

SETTINGS_CALLBACK = "pacs.settings"
VALUE = "value"
PHI, EXPIRY, CHANNELS = "phi_display", "share_expiry", "allowed_channels"
LONGEST = "share_longest"
EMAIL_AUDIENCE, EMAIL_GROUP = "email_audience", "email_usergroup"
DELETE_AUDIENCE, DELETE_GROUP = "delete_audience", "delete_usergroup"
SUBSCRIBE_AUDIENCE, SUBSCRIBE_GROUP = "subscribe_audience", "subscribe_usergroup"
MAX_CHANNELS = 100
_USERGROUP_ID = re.compile(r"S[A-Z0-9]{2,20}")
_PASTED_USERGROUP = re.compile(r"subteam\^(S[A-Z0-9]{2,20})")

PHI_CHOICES = {
    PhiDisplay.FULL: ("Full names and IDs", "Everyone who sees a card sees the patient's name and ID."),
    PhiDisplay.INITIALS: ("Initials", "J. D. and the last three characters of the ID."),
    PhiDisplay.HIDDEN: ("Hidden", "No name, no ID, no birth date: accession number and study only."),
}
AUDIENCE_CHOICES = {
    Audience.EVERYONE: "Everyone",
    Audience.ADMINS: "Workspace admins and owners",
    Audience.USERGROUP: "Members of a Slack user group",
    Audience.NOBODY: "Nobody",
}


def _phi_option(phi: PhiDisplay) -> Option:
    label, description = PHI_CHOICES[phi]
    return Option(text=label, value=phi.value, description=description)


def _audience_blocks(
    audience_block: str, group_block: str, label: str, permission: Permission
) -> list[Block]:
    choices = [option(text, audience.value) for audience, text in AUDIENCE_CHOICES.items()]
    initial = next(choice for choice in choices if choice.value == permission.audience.value)
    return [
        InputBlock(
            block_id=audience_block,
            label=label,
            element=StaticSelectElement(action_id=VALUE, options=choices, initial_option=initial),
        ),
        InputBlock(
            block_id=group_block,
            label="…the user group",
            optional=True,
            hint="Only for 'Members of a Slack user group': the group's ID, like S0123ABCD (in the group's profile).",
            element=PlainTextInputElement(
                action_id=VALUE, initial_value=permission.usergroup_id or None, max_length=40
            ),
        ),
    ]


def settings_view(
    settings: WorkspaceSettings, channel_id: str | None, *, response_url: str | None = None
) -> dict[str, Any]:
    """Build the settings modal, filled with the current settings, remembering where to answer."""
    blocks: list[Block] = [
        InputBlock(
            block_id=PHI,
            label="Patient data in Slack",
            element=RadioButtonsElement(
                action_id=VALUE,
                options=[_phi_option(phi) for phi in PhiDisplay],
                initial_option=_phi_option(settings.phi_display),
            ),
        ),
        InputBlock(
            block_id=EXPIRY,
            label="Share links expire after (days)",
            hint="Used when a share does not say expires:…",
            element=NumberInputElement(
                action_id=VALUE,
                is_decimal_allowed=False,
                min_value=1,
                max_value=MAX_SHARE_EXPIRY_DAYS,
                initial_value=str(settings.default_share_expiry_days),
            ),
        ),
        InputBlock(
            block_id=LONGEST,
            label="Longest a share link may last (days)",
            hint="Nobody can share for longer, whatever expires: says.",
            element=NumberInputElement(
                action_id=VALUE,
                is_decimal_allowed=False,
                min_value=1,
                max_value=MAX_SHARE_EXPIRY_DAYS,
                initial_value=str(settings.max_share_expiry_days),
            ),
        ),
        *_audience_blocks(EMAIL_AUDIENCE, EMAIL_GROUP, "Who may share by e-mail", settings.email_share),
        *_audience_blocks(
            DELETE_AUDIENCE, DELETE_GROUP, "Who may delete orders and folders", settings.delete
        ),
        *_audience_blocks(
            SUBSCRIBE_AUDIENCE,
            SUBSCRIBE_GROUP,
            "Who may subscribe a channel to new orders",
            settings.subscribe,
        ),
        InputBlock(
            block_id=CHANNELS,
            label="Channels where /pacs works",
            optional=True,
            hint="Leave empty to allow every channel.",
            element=ConversationMultiSelectElement(
                action_id=VALUE,
                initial_conversations=list(settings.allowed_channels[:MAX_CHANNELS]) or None,
                filter=ConversationFilter(
                    include=["public", "private", "im", "mpim"], exclude_bot_users=True
                ),
                max_selected_items=MAX_CHANNELS,
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=SETTINGS_CALLBACK,
        title="pacsbot settings",
        submit="Save",
        close="Cancel",
        private_metadata=metadata(channel_id, response_url),
        blocks=blocks,
    ).to_dict()


def _element(values: Mapping[str, Any], block_id: str) -> Mapping[str, Any]:
    element = (values.get(block_id) or {}).get(VALUE) or {}
    return element if isinstance(element, Mapping) else {}


def _choice(values: Mapping[str, Any], block_id: str) -> str:
    return str((_element(values, block_id).get("selected_option") or {}).get("value") or "")


def usergroup_id(typed: str) -> str | None:
    """Read a Slack user group ID from what an admin typed or pasted (``S0123``, ``<!subteam^S0123|@x>``)."""
    text = typed.strip()
    pasted = _PASTED_USERGROUP.search(text)
    if pasted:
        return pasted.group(1)
    return text.upper() if _USERGROUP_ID.fullmatch(text.upper()) else None


def _permission(
    values: Mapping[str, Any], audience_block: str, group_block: str, errors: dict[str, str]
) -> Permission:
    try:
        audience = Audience(_choice(values, audience_block))
    except ValueError:
        errors[audience_block] = "Choose who may do this."
        return Permission(audience=Audience.NOBODY)
    if audience is not Audience.USERGROUP:
        return Permission(audience=audience)
    group = usergroup_id(str(_element(values, group_block).get("value") or ""))
    if group is None:
        errors[group_block] = "Give the user group's ID (it starts with S), or choose another option."
        return Permission(audience=Audience.NOBODY)
    return Permission(audience=audience, usergroup_id=group)


def read_settings(
    values: Mapping[str, Any], current: WorkspaceSettings
) -> tuple[WorkspaceSettings | None, dict[str, str]]:
    """Read a submitted settings modal into settings, or into errors by block."""
    errors: dict[str, str] = {}
    try:
        phi = PhiDisplay(_choice(values, PHI))
    except ValueError:
        errors[PHI] = "Choose how much patient data Slack shows."
        phi = current.phi_display
    typed_days = str(_element(values, EXPIRY).get("value") or "").strip()
    days = int(typed_days) if typed_days.isdigit() else 0
    if not 1 <= days <= MAX_SHARE_EXPIRY_DAYS:
        errors[EXPIRY] = f"Give a whole number of days from 1 to {MAX_SHARE_EXPIRY_DAYS}."
    typed_longest = str(_element(values, LONGEST).get("value") or "").strip()
    # A form from before this field existed keeps the current maximum.
    longest = int(typed_longest) if typed_longest.isdigit() else current.max_share_expiry_days
    if typed_longest and not 1 <= longest <= MAX_SHARE_EXPIRY_DAYS:
        errors[LONGEST] = f"Give a whole number of days from 1 to {MAX_SHARE_EXPIRY_DAYS}."
    elif days > longest and EXPIRY not in errors:
        errors[EXPIRY] = f"The default cannot be longer than the longest a link may last ({longest} days)."
    email = _permission(values, EMAIL_AUDIENCE, EMAIL_GROUP, errors)
    delete = _permission(values, DELETE_AUDIENCE, DELETE_GROUP, errors)
    subscribe = _permission(values, SUBSCRIBE_AUDIENCE, SUBSCRIBE_GROUP, errors)
    channels = _element(values, CHANNELS).get("selected_conversations") or []
    if errors:
        return None, errors
    try:
        chosen = WorkspaceSettings(
            phi_display=phi,
            default_share_expiry_days=days,
            email_share=email,
            delete=delete,
            subscribe=subscribe,
            allowed_channels=tuple(dict.fromkeys(str(channel) for channel in channels)),
            cache_ttl_seconds=current.cache_ttl_seconds,
            max_share_expiry_days=longest,
            group_channels=current.group_channels,
        )
    except ValidationError:
        return None, {PHI: "These settings do not fit together; please check them."}
    return chosen, {}


def _audience_text(permission: Permission) -> str:
    if permission.audience is Audience.USERGROUP:
        return f"members of the user group `{permission.usergroup_id}`"
    return AUDIENCE_CHOICES[permission.audience].lower()


def settings_saved_blocks(settings: WorkspaceSettings) -> list[JsonBlock]:
    """Summarize saved settings for the admin who saved them."""
    channels = ", ".join(f"<#{channel}>" for channel in settings.allowed_channels) or "every channel"
    return to_json(
        [
            header("Settings saved"),
            section(
                "",
                fields=[
                    f"*Patient data*\n{PHI_CHOICES[settings.phi_display][0]}",
                    f"*Share links expire after*\n{settings.default_share_expiry_days} days",
                    f"*Longest a share link may last*\n{settings.max_share_expiry_days} days",
                    f"*E-mail sharing*\n{_audience_text(settings.email_share)}",
                    f"*Deleting*\n{_audience_text(settings.delete)}",
                    f"*Subscribing channels*\n{_audience_text(settings.subscribe)}",
                    f"*Channels*\n{channels}",
                ],
            ),
            context("Changes apply to the next command; cards already posted stay as they are."),
        ]
    )
