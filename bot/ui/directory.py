"""The account's directory: DICOM nodes (``/pacs nodes``) and users (``/pacs users``, ``/pacs me``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import Block

from bot.postdicom import AccountUser, DicomNode
from bot.ui.blocks import JsonBlock, context, escape, header, section, to_json, truncate

MAX_LISTED = 40


def nodes_blocks(nodes: Sequence[DicomNode]) -> list[JsonBlock]:
    """List the account's DICOM nodes: name, AE title, host and port."""
    blocks: list[Block] = [header("DICOM nodes")]
    if not nodes:
        blocks.append(section("This PostDICOM account has no DICOM nodes configured."))
        return to_json(blocks)
    for node in sorted(nodes, key=lambda item: (item.name or item.ae_title).casefold())[:MAX_LISTED]:
        address = (
            f"{escape(node.host)}:{node.port}"
            if node.host and node.port
            else escape(node.host or "no address")
        )
        blocks.append(
            section(
                f":satellite_antenna: *{escape(node.name or node.ae_title)}*\nAE `{escape(node.ae_title)}` · {address}"
            )
        )
    if len(nodes) > MAX_LISTED:
        blocks.append(context(f"and {len(nodes) - MAX_LISTED} more"))
    blocks.append(context("Send studies to these from PostDICOM; new orders can be scheduled on them."))
    return to_json(blocks)


def user_label(user: AccountUser) -> str:
    """Name a PostDICOM user the way people know them."""
    return user.full_name or user.user_name or user.email or "a user"


def users_blocks(
    users: Sequence[AccountUser], linked: Mapping[str, Sequence[str]], *, acting_user: str | None
) -> list[JsonBlock]:
    """List the account's users, with the Slack users linked to each and who the app acts as."""
    blocks: list[Block] = [header("PostDICOM users")]
    for user in sorted(users, key=lambda item: user_label(item).casefold())[:MAX_LISTED]:
        details = [f"`{escape(user.user_name)}`" if user.user_name else "", escape(user.email)]
        institutions = ", ".join(
            escape(item.institution_name) for item in user.institution_list if item.institution_name
        )
        if institutions:
            details.append(institutions)
        slack = linked.get(user.user_uuid.lower(), ())
        lines = [f"*{escape(user_label(user))}*", " · ".join(part for part in details if part)]
        if slack:
            lines.append("Slack: " + ", ".join(f"<@{user_id}>" for user_id in slack[:10]))
        if acting_user and user.user_uuid.lower() == acting_user.lower():
            lines.append("_The app acts as this user._")
        blocks.append(section(truncate("\n".join(line for line in lines if line), 3000)))
    if len(users) > MAX_LISTED:
        blocks.append(context(f"and {len(users) - MAX_LISTED} more"))
    blocks.append(context("Link yourself with `/pacs me <name, user name or e-mail>`."))
    return to_json(blocks)
