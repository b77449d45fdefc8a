"""Links to studies: a share link posted in a channel, a viewer link for one person, e-mail shares."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    CheckboxesElement,
    DatePickerElement,
    InputBlock,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot.postdicom import PatientOrder
from bot.store import PhiDisplay
from bot.ui.blocks import JsonBlock, button, context, escape, option, section, to_json
from bot.ui.cards import brief
from bot.ui.orders import Names, order_blocks

EMAIL_MODAL = "share.email"
ADDRESS_BLOCK, PASSWORD_BLOCK, EXPIRY_BLOCK, DOWNLOAD_BLOCK = (
    "addresses",
    "password_to",
    "expires",
    "download",
)
FIELD_ACTION = "value"
DOWNLOAD_OPTION = "download"
# The button that posts a share link in a channel shared with another organisation, once confirmed.
SHARE_EXTERNAL_ACTION = "share.external_confirm"


def link(url: str, label: str) -> str:
    """Write a mrkdwn link whose URL cannot break out of its brackets."""
    safe = escape(url).replace("|", "%7C")
    return f"<{safe}|{escape(label)}>"


def _terms(expires: date, can_download: bool) -> str:
    download = "downloads allowed" if can_download else "view only, no downloads"
    return f"expires after {expires.isoformat()} · {download}"


def share_link_blocks(
    order: PatientOrder,
    phi: PhiDisplay,
    names: Names,
    *,
    url: str,
    expires: date,
    can_download: bool,
    shared_by: str,
) -> list[JsonBlock]:
    """Render a share link for a channel: who shared it, the order's card, and the link's terms."""
    blocks: list[Block] = [
        section(f":link: <@{shared_by}> shared a study: *{link(url, 'Open in PostDICOM')}*"),
        *order_blocks(order, phi, names),
        context(f"Anyone with the link can open the study until it {_terms(expires, can_download)}."),
    ]
    return to_json(blocks)


def view_link_blocks(order: PatientOrder, phi: PhiDisplay, names: Names, *, url: str) -> list[JsonBlock]:
    """Render a viewer link for the requester alone, saying why it is no use to colleagues."""
    return to_json(
        [
            section(f":eyes: *{link(url, 'Open in the PostDICOM viewer')}* (only you can see this link)"),
            brief(order, phi, names),
            context(
                "PostDICOM binds viewer links to the IP address that asked for them, so this one will not "
                "open for colleagues. To show the study to someone else, use *Share link* or "
                "`/pacs share <order>`."
            ),
        ]
    )


def email_shared_blocks(
    order: PatientOrder,
    phi: PhiDisplay,
    names: Names,
    *,
    addresses: Sequence[str],
    password_to: str | None,
    expires: date,
    can_download: bool,
) -> list[JsonBlock]:
    """Confirm an e-mail share to the person who made it."""
    recipients = ", ".join(escape(address) for address in addresses)
    password = f"; the password goes to {escape(password_to)}" if password_to else ""
    return to_json(
        [
            section(f":envelope: PostDICOM sent the study to {recipients}{password}."),
            brief(order, phi, names),
            context(f"The share {_terms(expires, can_download)}."),
        ]
    )


def email_modal(
    order: PatientOrder, phi: PhiDisplay, names: Names, *, metadata: str, expires: date
) -> dict[str, Any]:
    """Build the modal asking for the addresses (and terms) of an e-mail share."""
    blocks: list[Block] = [
        brief(order, phi, names),
        InputBlock(
            block_id=ADDRESS_BLOCK,
            label="E-mail addresses",
            hint="Separate several addresses with commas. Each gets the link and, unless you say otherwise, the password.",
            element=PlainTextInputElement(action_id=FIELD_ACTION, placeholder="colleague@hospital.org"),
        ),
        InputBlock(
            block_id=PASSWORD_BLOCK,
            label="Send the password to",
            optional=True,
            hint="Another address for the password, so that the link and the password travel apart.",
            element=PlainTextInputElement(action_id=FIELD_ACTION, placeholder="records@hospital.org"),
        ),
        InputBlock(
            block_id=EXPIRY_BLOCK,
            label="Last day the share works",
            element=DatePickerElement(action_id=FIELD_ACTION, initial_date=expires.isoformat()),
        ),
        InputBlock(
            block_id=DOWNLOAD_BLOCK,
            label="Downloads",
            optional=True,
            element=CheckboxesElement(
                action_id=FIELD_ACTION, options=[option("Let them download the images", DOWNLOAD_OPTION)]
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=EMAIL_MODAL,
        title="Share by e-mail",
        submit="Share",
        close="Cancel",
        private_metadata=metadata,
        blocks=blocks,
    ).to_dict()


def unfurl_blocks(
    order: PatientOrder, phi: PhiDisplay, names: Names, *, expires: date, can_download: bool, expired: bool
) -> list[JsonBlock]:
    """Render a pasted share link as the study card, with the link's terms (or that it has expired)."""
    terms = (
        f":hourglass: This link expired after {expires.isoformat()}."
        if expired
        else f"PostDICOM share link · {_terms(expires, can_download)}"
    )
    return to_json([*order_blocks(order, phi, names), context(terms)])


def external_share_confirm_blocks(
    order: PatientOrder, names: Names, *, partners: str, value: str, expires: date, can_download: bool
) -> list[JsonBlock]:
    """Ask before posting a link in a channel another organisation shares, naming that organisation."""
    blocks: list[Block] = [
        section(
            f":globe_with_meridians: This channel is shared with *{escape(partners)}*. Everyone there, "
            "including their members, will be able to open the study with the link until it "
            f"{_terms(expires, can_download)}. Post it here?"
        ),
        *order_blocks(order, PhiDisplay.HIDDEN, names),
        ActionsBlock(elements=[button("Post the link here", SHARE_EXTERNAL_ACTION, value, style="primary")]),
        context("Only you can see this. Nothing is posted unless you press the button."),
    ]
    return to_json(blocks)
