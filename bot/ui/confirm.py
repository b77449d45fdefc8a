"""Asking before something that cannot be undone: a danger button behind Slack's own confirm dialog."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ConfirmObject

from bot.ui.blocks import button, truncate

DISMISS_ACTION = "pacs.dismiss"


def confirm_actions(
    *, label: str, action_id: str, value: str, title: str, question: str, yes: str
) -> ActionsBlock:
    """Build a danger button that Slack confirms in a dialog, next to a Cancel button."""
    danger = ButtonElement(
        text=truncate(label, 75),
        action_id=action_id,
        value=value,
        style="danger",
        confirm=ConfirmObject(
            title=truncate(title, 100),
            text=truncate(question, 300),
            confirm=truncate(yes, 30),
            deny="Cancel",
            style="danger",
        ),
    )
    return ActionsBlock(elements=[danger, button("Cancel", DISMISS_ACTION, "cancel")])
