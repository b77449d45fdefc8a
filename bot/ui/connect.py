"""The views of ``/pacs connect``: keys, then the acting user and default institution."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, StaticSelectElement
from slack_sdk.models.views import View

from bot.postdicom import Account
from bot.ui.blocks import context, option, section, truncate

KEYS_CALLBACK = "pacs.connect.keys"
ACCOUNT_CALLBACK = "pacs.connect.account"
API_KEY_BLOCK, ACCOUNT_KEY_BLOCK, KEY_ACTION = "api_key", "account_key", "value"
USER_BLOCK, INSTITUTION_BLOCK, SELECT_ACTION = "acting_user", "institution", "choice"


def metadata(channel_id: str | None, response_url: str | None = None) -> str:
    """Encode what the flow must remember between views (never a key): where to answer."""
    remembered = {"channel": channel_id or ""}
    if response_url:
        # The command's response_url answers in the channel even where the bot is no member.
        remembered["response_url"] = response_url
    return json.dumps(remembered)


def response_url_from_metadata(private_metadata: str) -> str | None:
    """Read the command's response_url back from a view's private metadata."""
    try:
        value = json.loads(private_metadata or "{}").get("response_url")
    except (ValueError, AttributeError):
        return None
    return str(value) if value else None


def channel_from_metadata(private_metadata: str) -> str | None:
    """Read the channel the flow started in back from a view's private metadata."""
    try:
        value = json.loads(private_metadata or "{}").get("channel")
    except (ValueError, AttributeError):
        return None
    return str(value) if value else None


def keys_view(channel_id: str | None, *, problem: str = "") -> dict[str, Any]:
    """Build the modal asking for the API key and account key."""
    blocks: list[Any] = [
        section(
            "Paste the *API key* and *account key* of the PostDICOM account this workspace should use. "
            "You find them in PostDICOM under *Account settings → API*."
        ),
    ]
    if problem:
        blocks.append(section(f":warning: {problem}"))
    blocks += [
        InputBlock(
            block_id=API_KEY_BLOCK,
            label="API key",
            element=PlainTextInputElement(
                action_id=KEY_ACTION, placeholder="0f0f0f0f-1234-4abc-8def-0123456789ab"
            ),
        ),
        InputBlock(
            block_id=ACCOUNT_KEY_BLOCK,
            label="Account key",
            element=PlainTextInputElement(
                action_id=KEY_ACTION, placeholder="acc0acc0-5678-4abc-9def-0123456789ab"
            ),
        ),
        context(
            "The keys are checked with PostDICOM, then stored encrypted. Nobody can read them back in Slack."
        ),
    ]
    view = View(
        type="modal",
        callback_id=KEYS_CALLBACK,
        title="Connect PostDICOM",
        submit="Check keys",
        close="Cancel",
        private_metadata=metadata(channel_id),
        blocks=blocks,
    )
    return view.to_dict()


def checking_view() -> dict[str, Any]:
    """Build the interim view shown while PostDICOM checks the keys."""
    return View(
        type="modal",
        title="Connect PostDICOM",
        close="Close",
        blocks=[section(":hourglass_flowing_sand: Checking the keys with PostDICOM…")],
    ).to_dict()


def account_view(
    account: Account, channel_id: str | None, *, acting_user: str | None, institution: str | None
) -> dict[str, Any]:
    """Build the modal choosing the PostDICOM user the app acts as and the default institution."""
    users = [
        option(truncate(user.full_name or user.user_name or user.user_uuid, 75), user.user_uuid)
        for user in account.user_list
    ][:100]
    institutions = [
        option(truncate(item.institution_name or item.institution_uuid, 75), item.institution_uuid)
        for item in account.institutions()
    ][:100]
    initial_user = next(
        (choice for choice in users if choice.value == acting_user), users[0] if users else None
    )
    initial_institution = next(
        (choice for choice in institutions if choice.value == institution),
        institutions[0] if institutions else None,
    )
    if not users:
        # Slack refuses a menu without options: say what is wrong instead of offering nothing.
        blocks: list[Any] = [
            section(
                ":warning: The keys work, but this PostDICOM account lists no users for the app to act as. "
                "Add a user in PostDICOM, then run `/pacs connect` again."
            )
        ]
    else:
        blocks = [
            section(":white_check_mark: The keys work. Choose who the app acts as in PostDICOM."),
            InputBlock(
                block_id=USER_BLOCK,
                label="Acting PostDICOM user",
                hint="Searches, shares and changes made from Slack are made as this user.",
                element=StaticSelectElement(
                    action_id=SELECT_ACTION, options=users, initial_option=initial_user
                ),
            ),
        ]
    if institutions and users:
        blocks.append(
            InputBlock(
                block_id=INSTITUTION_BLOCK,
                label="Default institution",
                hint="Where new orders and uploads go unless a command says otherwise.",
                element=StaticSelectElement(
                    action_id=SELECT_ACTION, options=institutions, initial_option=initial_institution
                ),
            )
        )
    return View(
        type="modal",
        callback_id=ACCOUNT_CALLBACK,
        title="Connect PostDICOM",
        submit="Save" if users else None,
        close="Cancel",
        private_metadata=metadata(channel_id),
        blocks=blocks,
    ).to_dict()


def submitted(view: Mapping[str, Any], block_id: str, action_id: str) -> str:
    """Read one submitted value from a view."""
    values = (view.get("state") or {}).get("values") or {}
    element = (values.get(block_id) or {}).get(action_id) or {}
    if "selected_option" in element:
        return str((element["selected_option"] or {}).get("value") or "")
    return str(element.get("value") or "").strip()
