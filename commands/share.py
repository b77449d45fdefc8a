"""``/pacs share <order> [expires:…] [download] [email:a@b [password-to:c@d]]``: links and e-mail shares.

A share link is posted in the channel with the order's card (per the PHI setting) and its terms;
every link expires, after the workspace's default number of days unless ``expires:`` says
otherwise. An e-mail share is subject to the workspace's e-mail-share permission and confirmed
to the sharer alone. Addresses are checked with the PostDICOM library's own rule before anything
is sent, so a typo never leaves half of a multi-address share done.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot.app.delivery import Answer
from bot.app.errors import NotAllowed, UserFacingError
from bot.app.grammar import UsageError, parse_date, split_words
from bot.app.guards import audited, require_permission
from bot.app.lookup import Lookup
from bot.app.pacs_app import PacsApp
from bot.app.request import PacsRequest
from bot.postdicom import InvalidParameter, PatientOrder
from bot.postdicom.validation import Kind, validate
from bot.store import WorkspaceSettings
from bot.store.created_links import CreatedLink
from bot.store.settings import MAX_SHARE_EXPIRY_DAYS
from bot.ui.blocks import plain_state
from bot.ui.shares import (
    ADDRESS_BLOCK,
    DOWNLOAD_BLOCK,
    DOWNLOAD_OPTION,
    EMAIL_MODAL,
    EXPIRY_BLOCK,
    FIELD_ACTION,
    PASSWORD_BLOCK,
    SHARE_EXTERNAL_ACTION,
    email_modal,
    email_shared_blocks,
    external_share_confirm_blocks,
    share_link_blocks,
)
from bot.ui.values import OrderRef
from commands.order_actions import act_on_reference, listen, on_order
from commands.order_changes import ModalOrigin, StateValues, on_submit, open_modal

logger = logging.getLogger(__name__)

SHARE_OPTIONS = ("expires", "email", "password-to")
# Carried by the confirmation's button: the sharer saw which organisation shares the channel.
CONFIRMED_FLAG = "confirmed-external"
LINK_EXAMPLE = "/pacs share 1CT1 expires:30d"
EMAIL_EXAMPLE = "/pacs share 1CT1 email:colleague@hospital.org"
MAX_ADDRESSES = 10
_ADDRESS_SEPARATORS = re.compile(r"[,;\s]+")


@dataclass(frozen=True, slots=True)
class ShareTerms:
    """How to share: until when, whether downloads are allowed, and by e-mail to whom."""

    expires: date
    can_download: bool = False
    addresses: tuple[str, ...] = ()
    password_to: str | None = None
    confirmed_external: bool = False


def today() -> date:
    """Return today's date in UTC."""
    return datetime.now(UTC).date()


def expiry(text: str | None, default_days: int, on: date, *, longest: int = MAX_SHARE_EXPIRY_DAYS) -> date:
    """Read ``expires:`` (``30d``, ``2026-12-31``, ``today``), else the default; never beyond ``longest`` days."""
    if text is None or not text.strip():
        return on + timedelta(days=min(default_days, longest))
    day = parse_date(text, on, future=True, what="expiry date")
    if day < on:
        raise UsageError(
            f"{day.isoformat()} has passed; a share must last until today at least", LINK_EXAMPLE
        )
    if day > on + timedelta(days=longest):
        where = (
            " in this workspace (an admin sets that in `/pacs settings`)"
            if longest < MAX_SHARE_EXPIRY_DAYS
            else ""
        )
        raise UsageError(
            f"a share can last {longest} days at most{where}", f"/pacs share ACC0000001 expires:{longest}d"
        )
    return day


def check_address(address: str, *, what: str = "e-mail address") -> None:
    """Refuse an address the PostDICOM library would refuse, with an answer fit for the user."""
    try:
        validate(("email", Kind.MAIL, address))
    except InvalidParameter:
        raise UsageError(f"“{address}” is not an {what} PostDICOM accepts", EMAIL_EXAMPLE) from None


def split_addresses(text: str) -> tuple[str, ...]:
    """Split addresses separated by commas, semicolons or spaces."""
    return tuple(part for part in _ADDRESS_SEPARATORS.split(text) if part)


def read_terms(text: str, settings: WorkspaceSettings, on: date) -> ShareTerms:
    """Parse the options of ``share`` (everything but the order reference)."""
    words = split_words(text, SHARE_OPTIONS)
    addresses = tuple(
        address for key, value in words.options if key == "email" for address in split_addresses(value)
    )
    password_to = (words.option("password-to") or "").strip() or None
    if password_to and not addresses:
        raise UsageError(
            "password-to: goes with an e-mail share", f"{EMAIL_EXAMPLE} password-to:records@hospital.org"
        )
    if len(addresses) > MAX_ADDRESSES:
        raise UsageError(f"share with {MAX_ADDRESSES} addresses at most at a time", EMAIL_EXAMPLE)
    for address in addresses:
        check_address(address)
    if password_to:
        check_address(password_to, what="address for the password")
    return ShareTerms(
        expires=expiry(
            words.option("expires"),
            settings.default_share_expiry_days,
            on,
            longest=settings.max_share_expiry_days,
        ),
        can_download=words.has_flag("download"),
        addresses=addresses,
        password_to=password_to,
        confirmed_external=words.has_flag(CONFIRMED_FLAG),
    )


def terms_text(terms: ShareTerms) -> str:
    """Write terms back as ``share`` options, for a picker to carry."""
    parts = [f"expires:{terms.expires.isoformat()}"]
    parts += [f"email:{address}" for address in terms.addresses]
    if terms.password_to:
        parts.append(f"password-to:{terms.password_to}")
    if terms.can_download:
        parts.append("download")
    return " ".join(parts)


async def require_email_permission(
    request: PacsRequest, settings: WorkspaceSettings, order_uuids: list[str]
) -> None:
    """Raise NotAllowed (audited) unless the user may share by e-mail in this workspace."""
    await require_permission(
        request,
        settings.email_share,
        "share studies by e-mail",
        action="order.share_email",
        order_uuids=order_uuids,
    )


async def share_link(request: PacsRequest, lookup: Lookup, order: PatientOrder, terms: ShareTerms) -> None:
    """Create a share link and post it in the channel with the order's card."""
    settings = await request.settings()
    if request.channel_id and not settings.allows_channel(request.channel_id):
        raise NotAllowed(
            "This workspace's admins have not allowed the app in this channel, so I will not post a link here.",
            hint="Share it in one of the allowed channels, or by e-mail.",
        )
    order_uuid = order.patient_order_uuid
    external = request.external_channel
    if external is not None and not terms.confirmed_external:
        # Before any link exists: the sharer confirms, knowing which organisation will see it.
        value = f"{OrderRef(order_uuid, order.institution_uuid).encode('share')}|{terms_text(terms)} {CONFIRMED_FLAG}"
        await request.reply(
            f"This channel is shared with {external.partners}. Post the link here?",
            external_share_confirm_blocks(
                order,
                await lookup.names(),
                partners=external.partners,
                value=value,
                expires=terms.expires,
                can_download=terms.can_download,
            ),
        )
        return
    undelivered = request.services.undelivered
    key = ":".join(
        (
            "share_link",
            request.workspace.key,
            request.user_id,
            request.channel_id or "",
            order_uuid.lower(),
            terms.expires.isoformat(),
            str(terms.can_download),
        )
    )
    kept = undelivered.peek(key)
    if kept is not None:
        # Slack showed this link nowhere last time: offer it again rather than create a second one.
        logger.info("offering again the undelivered share link for order %s", order_uuid)
        if await request.reply(kept.text, kept.blocks, in_channel=True):
            undelivered.forget(key)
        return
    async with audited(request, "order.share_link", order_uuids=[order_uuid]):
        link = await lookup.handle.client.create_quick_share_link_with_expire_date(
            user_uuid=lookup.user,
            order_uuid_list=[order_uuid],
            user_can_download_studies=terms.can_download,
            expire_date=terms.expires.isoformat(),
        )
    logger.info("share link for order %s created for team %s", order_uuid, request.workspace.key)
    # Remembered so that a paste of the link unfurls into the study card (commands/unfurls.py).
    await request.services.store.created_links.remember(
        request.workspace,
        link.url,
        CreatedLink(order_uuid, order.institution_uuid, terms.expires, terms.can_download),
    )
    blocks = share_link_blocks(
        order,
        settings.phi_display,
        await lookup.names(),
        url=link.url,
        expires=terms.expires,
        can_download=terms.can_download,
        shared_by=request.user_id,
    )
    text = f"Shared a study link (expires after {terms.expires.isoformat()})"
    if not await request.reply(text, blocks, in_channel=True):
        undelivered.keep(key, Answer(text, blocks, in_channel=True))


async def share_by_email(
    request: PacsRequest, lookup: Lookup, order: PatientOrder, terms: ShareTerms
) -> None:
    """Share an order by e-mail with each address, then confirm to the sharer alone."""
    settings = await request.settings()
    order_uuid = order.patient_order_uuid
    await require_email_permission(request, settings, [order_uuid])
    client = lookup.handle.client
    async with audited(request, "order.share_email", order_uuids=[order_uuid]):
        for address in terms.addresses:
            await client.share_patient_order_with_expire_date(
                lookup.user,
                [order_uuid],
                address,
                terms.password_to,
                terms.can_download,
                terms.expires.isoformat(),
            )
    logger.info(
        "order %s shared by e-mail with %d addresses for team %s",
        order_uuid,
        len(terms.addresses),
        request.workspace.key,
    )
    blocks = email_shared_blocks(
        order,
        settings.phi_display,
        await lookup.names(),
        addresses=terms.addresses,
        password_to=terms.password_to,
        expires=terms.expires,
        can_download=terms.can_download,
    )
    await request.reply("Shared by e-mail", blocks)


async def share_order(request: PacsRequest, lookup: Lookup, order: PatientOrder, options: str) -> None:
    """Share an order as the options say: a link in the channel, or by e-mail."""
    terms = read_terms(options, await request.settings(), today())
    if terms.addresses:
        await share_by_email(request, lookup, order, terms)
    else:
        await share_link(request, lookup, order, terms)


async def ask_for_addresses(request: PacsRequest, lookup: Lookup, order: PatientOrder, options: str) -> None:
    """Open the e-mail share modal (after checking that the user may share by e-mail at all)."""
    settings = await request.settings()
    await require_email_permission(request, settings, [order.patient_order_uuid])
    origin = ModalOrigin.of(request, order)
    view = email_modal(
        order,
        settings.phi_display,
        await lookup.names(),
        metadata=origin.encode(request.services.modal_context),
        expires=today() + timedelta(days=settings.default_share_expiry_days),
    )
    await open_modal(request, view)


def _selected_download(values: StateValues) -> bool:
    element = (values.get(DOWNLOAD_BLOCK) or {}).get(FIELD_ACTION) or {}
    return any((item or {}).get("value") == DOWNLOAD_OPTION for item in element.get("selected_options") or [])


def _terms_from(values: StateValues, on: date) -> tuple[ShareTerms | None, dict[str, str]]:
    errors: dict[str, str] = {}
    addresses = split_addresses(plain_state(values, ADDRESS_BLOCK, FIELD_ACTION))
    password_to = plain_state(values, PASSWORD_BLOCK, FIELD_ACTION) or None
    expires_text = plain_state(values, EXPIRY_BLOCK, FIELD_ACTION)
    checks = [(ADDRESS_BLOCK, address, "e-mail address") for address in addresses]
    if password_to:
        checks.append((PASSWORD_BLOCK, password_to, "address for the password"))
    for block_id, address, what in checks:
        try:
            check_address(address, what=what)
        except UsageError as error:
            errors.setdefault(block_id, error.message[0].upper() + error.message[1:] + ".")
    if not addresses:
        errors[ADDRESS_BLOCK] = "Give at least one e-mail address."
    elif len(addresses) > MAX_ADDRESSES:
        errors[ADDRESS_BLOCK] = f"Share with {MAX_ADDRESSES} addresses at most at a time."
    try:
        expires = expiry(expires_text, 0, on)
    except UsageError as error:
        errors[EXPIRY_BLOCK] = error.message[0].upper() + error.message[1:] + "."
        expires = on
    if errors:
        return None, errors
    terms = ShareTerms(expires, _selected_download(values), addresses, password_to)
    return terms, {}


def check_email_form(values: StateValues) -> dict[str, str]:
    """Return the e-mail modal's field errors (none when it can be sent)."""
    return _terms_from(values, today())[1]


async def submit_email(
    request: PacsRequest, lookup: Lookup, order: PatientOrder, values: StateValues, origin: ModalOrigin
) -> None:
    """Share by e-mail as the modal says."""
    terms, errors = _terms_from(values, today())
    if terms is None:
        # The ack checked the form; a form that turned bad since (midnight passed) is asked again.
        await request.reply(
            "The share form was out of date. Please open it again: " + " ".join(errors.values())
        )
        return
    longest = (await request.settings()).max_share_expiry_days
    if terms.expires > today() + timedelta(days=longest):
        raise UserFacingError(
            f"A share can last {longest} days at most in this workspace, so nothing was shared.",
            hint="Open the form again and choose an earlier expiry date.",
        )
    await share_by_email(request, lookup, order, terms)


def register(app: PacsApp) -> None:
    """Add ``/pacs share``, the Share link button's verb, and the e-mail share modal."""

    async def command(request: PacsRequest) -> None:
        words = split_words(request.text, SHARE_OPTIONS)
        reference = " ".join(words.without_flags("download"))
        if not reference:
            raise UsageError("which order should I share?", LINK_EXAMPLE)
        settings = await request.settings()
        # Options are checked before PostDICOM is asked anything, and e-mail permission too.
        terms = read_terms(request.text, settings, today())
        if terms.addresses:
            await require_email_permission(request, settings, [])
        await act_on_reference(app, request, "share", reference, terms_text(terms))

    on_order(app, "share", share_order, question="Which order should I share?")
    on_order(app, "email", ask_for_addresses, question="Which order should I share by e-mail?")
    listen(app, SHARE_EXTERNAL_ACTION, single_click=True)
    on_submit(app, EMAIL_MODAL, submit_email, validate=check_email_form)
    app.router.add(
        "share",
        command,
        summary="Post a share link in the channel, or share by e-mail (links expire; downloads are opt-in)",
        usage="share <order> [expires:30d|2026-12-31] [download] [email:a@b [password-to:c@d]]",
        examples=(
            LINK_EXAMPLE,
            "/pacs share ACC0000001 download",
            "/pacs share 1CT1 email:colleague@hospital.org password-to:records@hospital.org expires:7d",
        ),
    )
