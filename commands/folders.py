"""``/pacs folder …``: list, create, delete, file orders, view and share folders (also for upload).

Folders are found by path (``Cases/2025``) in the cached folder tree: an exact path wins, then a
single close match; several or none get suggestions, never a guess. Creating or deleting a
folder drops the cached tree. A folder UUID that comes back from a button or menu is looked up in
this workspace's tree before anything is done with it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypedDict

from slack_bolt.async_app import AsyncAck

from bot.app.dictionaries import MAX_FOLDER_DEPTH, FolderEntry
from bot.app.errors import UserFacingError
from bot.app.grammar import UsageError, Words, parse_date, split_words, tokenize, unescape_slack
from bot.app.guards import audited, require_permission
from bot.app.lookup import Lookup
from bot.app.matching import Candidate, match
from bot.app.pacs_app import PacsApp
from bot.app.request import PacsRequest
from bot.postdicom import PatientOrder
from bot.store.settings import MAX_SHARE_EXPIRY_DAYS
from bot.ui.blocks import escape, message
from bot.ui.confirm import DISMISS_ACTION
from bot.ui.folders import (
    FOLDER_DELETE_ACTION,
    FOLDER_LINK_ACTION,
    folder_delete_blocks,
    folder_link_blocks,
    folder_picker_blocks,
    folder_tree_blocks,
    folder_view_blocks,
)
from bot.ui.orders import order_ref, order_summary
from bot.ui.values import BadActionValue, decode_uuid
from commands.order_actions import act_on_reference, on_order
from commands.users import postdicom_user_for

FILE_VERB = "folder"
UNFILE_VERB = "unfile"
FOLDER_EXAMPLE = "/pacs folder add ACC0000001 Cases/2025"
SHARE_EXAMPLE = "/pacs folder share Cases link expires:30d"
SHARE_OPTIONS = ("email", "password-to", "expires", "inst")
_DATE_WORD = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,4}[dwmy]", re.IGNORECASE)
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")

SubHandler = Callable[[PacsRequest, Lookup, str], Awaitable[None]]


@dataclass
class FolderShare:
    """A parsed ``folder share``: who gets it, until when, and whether it is for uploading."""

    link: bool
    email: str
    password_to: str
    slack_users: tuple[str, ...]
    group: str
    expires: date
    upload: bool
    download: bool
    institution: str


class FolderShareCall(TypedDict):
    """The arguments PostDICOM's four folder shares (link or e-mail, view or upload) begin with."""

    user_uuid: str
    folder_uuid: str
    share_password: str | None
    share_title: str | None
    share_description: str | None
    expire_date: str


class EmailRecipients(TypedDict):
    """Who a folder share by e-mail goes to, and who gets its password."""

    email: str | None
    email_for_sending_share_password: str | None


async def folder_entries(request: PacsRequest, lookup: Lookup, *, fresh: bool = False) -> list[FolderEntry]:
    """Return the workspace's folder tree (cached unless ``fresh``)."""
    dictionaries = request.services.dictionaries
    if fresh:
        dictionaries.invalidate(request.workspace.key, "folders")
    return await dictionaries.folders(request.workspace.key, lookup.handle.client, lookup.user)


def exact_folder(entries: Sequence[FolderEntry], path: str) -> FolderEntry | None:
    """Return the folder at exactly this path (case-insensitive), if there is one."""
    wanted = path.strip().strip("/").casefold()
    return next((entry for entry in entries if entry.path.casefold() == wanted), None)


async def resolve_folder(request: PacsRequest, lookup: Lookup, typed: str) -> FolderEntry:
    """Find the folder someone means by path or name, or raise with the closest suggestions."""
    if not typed.strip():
        raise UsageError("which folder? Give its path", "/pacs folder list")
    entries = await folder_entries(request, lookup)
    found = exact_folder(entries, typed)
    if found is not None:
        return found
    uuid = await lookup.folder_uuid(typed)
    return next(entry for entry in entries if entry.folder.folder_uuid == uuid)


async def folder_by_uuid(request: PacsRequest, lookup: Lookup, value: str) -> FolderEntry:
    """Return the folder a button or menu names, if it is in this workspace's tree."""
    try:
        uuid = decode_uuid(value.strip())
    except BadActionValue:
        raise UserFacingError("That menu is not one of mine, so I did nothing.") from None
    for fresh in (False, True):
        entries = await folder_entries(request, lookup, fresh=fresh)
        found = next((entry for entry in entries if entry.folder.folder_uuid.lower() == uuid), None)
        if found is not None:
            return found
    raise UserFacingError("That folder is no longer in this workspace's PostDICOM account.")


def split_leading_folder(
    words: Sequence[str], entries: Sequence[FolderEntry]
) -> tuple[FolderEntry | None, list[str]]:
    """Take the longest run of leading words that is exactly a folder path; else none and the words after the first."""
    for count in range(len(words), 0, -1):
        found = exact_folder(entries, " ".join(words[:count]))
        if found is not None:
            return found, list(words[count:])
    return None, list(words[1:])


def _in_folder(order: PatientOrder, entry: FolderEntry) -> bool:
    return entry.folder.folder_uuid.lower() in {uuid.lower() for uuid in order.folder_uuid_list}


def parse_share(
    words: Words, rest: Sequence[str], today: date, default_days: int, longest: int = MAX_SHARE_EXPIRY_DAYS
) -> FolderShare:
    """Read who a folder is shared with and how, from the words after the folder."""
    flags = {word.lower() for word in rest if word.lower() in ("link", "upload", "download", "url")}
    dates = [word for word in rest if _DATE_WORD.fullmatch(word)]
    group = " ".join(word for word in rest if word.lower() not in flags and word not in dates).strip()
    typed_expiry = words.option("expires") or (dates[-1] if dates else None)
    expires = (
        parse_date(typed_expiry, today, future=True, what="expiry date")
        if typed_expiry
        else today + timedelta(days=min(default_days, longest))
    )
    if expires < today:
        raise UsageError("that expiry date has passed", "expires:30d")
    if expires > today + timedelta(days=longest):
        raise UsageError(f"a share can last {longest} days at most in this workspace", f"expires:{longest}d")
    email = (words.option("email") or "").strip()
    if email and not _EMAIL.fullmatch(email):
        raise UsageError(f"'{email}' is not an e-mail address", "email:colleague@example.org")
    password_to = (words.option("password-to") or "").strip()
    if password_to and not _EMAIL.fullmatch(password_to):
        raise UsageError(f"'{password_to}' is not an e-mail address", "password-to:colleague@example.org")
    users = tuple(mention.user_id for mention in words.mentions)
    link = bool(flags & {"link", "url"})
    targets = [
        kind
        for kind, present in (("link", link), ("email", email), ("users", users), ("group", group))
        if present
    ]
    if not targets and "upload" in flags:
        link, targets = True, ["link"]
    if len(targets) != 1:
        raise UsageError(
            "say who gets it: `link`, `email:someone@example.org`, `@someone` or a user group's name"
            if not targets
            else "share with one kind of recipient at a time",
            SHARE_EXAMPLE,
        )
    upload = "upload" in flags
    if upload and (users or group):
        raise UsageError(
            "upload shares go to a link or an e-mail address", "/pacs folder share Cases link upload"
        )
    return FolderShare(
        link=link,
        email=email,
        password_to=password_to,
        slack_users=users,
        group=group,
        expires=expires,
        upload=upload,
        download="download" in flags,
        institution=(words.option("inst") or "").strip(),
    )


def register(app: PacsApp) -> None:
    """Add ``/pacs folder`` with its actions, the folder verbs and the delete confirmation."""
    dictionaries = app.services.dictionaries

    def forget_tree(request: PacsRequest) -> None:
        dictionaries.invalidate(request.workspace.key, "folders")

    async def list_folders(request: PacsRequest, lookup: Lookup, rest: str) -> None:
        entries = await folder_entries(request, lookup)
        under = ""
        if rest.strip():
            root = await resolve_folder(request, lookup, unescape_slack(rest).strip().strip("\"'"))
            under = root.path
            entries = [
                entry for entry in entries if entry.path == under or entry.path.startswith(under + "/")
            ]
        await request.reply(f"{len(entries)} folders", folder_tree_blocks(entries, under=under))

    async def create(request: PacsRequest, lookup: Lookup, rest: str) -> None:
        tokens = tokenize(unescape_slack(rest))
        if not tokens:
            raise UsageError(
                "which folder? Give a path; quote it if it has spaces",
                '/pacs folder create "Research/Trial B" Second trial',
            )
        names = [part.strip() for part in tokens[0].strip().strip("/").split("/")]
        if not all(names) or len(names) > MAX_FOLDER_DEPTH:
            raise UsageError(
                f"'{tokens[0]}' is not a folder path (names separated by /, at most {MAX_FOLDER_DEPTH} deep)",
                "/pacs folder create Cases/2026",
            )
        description = " ".join(tokens[1:]).strip()
        entries = await folder_entries(request, lookup)
        existing = 0
        parent: FolderEntry | None = None
        for depth in range(len(names), 0, -1):
            parent = exact_folder(entries, "/".join(names[:depth]))
            if parent is not None:
                existing = depth
                break
        if existing == len(names) and parent is not None:
            await request.reply(f"The folder `{escape(parent.path)}` already exists; nothing to do.")
            return
        missing = "/".join(names[existing:])
        parent_uuid = parent.folder.folder_uuid if parent else None
        async with audited(request, "folder.create") as change:
            created = await lookup.handle.client.create_folder_with_description(
                lookup.user, parent_uuid, missing, description or None
            )
            if created.folder_uuid:
                change.folder_uuids.append(created.folder_uuid.lower())
        forget_tree(request)
        path = f"{parent.path}/{missing}" if parent else missing
        made = len(names) - existing
        await request.reply(
            f"Created folder {path}",
            message(
                f":file_folder: Created `{escape(path)}`"
                + (f" ({made} new levels)" if made > 1 else "")
                + (f" — _{escape(description)}_" if description else "")
                + ".",
                hint=f"File orders into it with `/pacs folder add <accession> {escape(path)}`.",
            ),
        )

    async def delete(request: PacsRequest, lookup: Lookup, rest: str) -> None:
        entry = await resolve_folder(request, lookup, unescape_slack(rest).strip().strip("\"'"))
        settings = await request.settings()
        await require_permission(
            request,
            settings.delete,
            "delete folders",
            action="folder.delete",
            folder_uuids=[entry.folder.folder_uuid.lower()],
        )
        await request.reply(f"Delete the folder {entry.path}?", folder_delete_blocks(entry))

    async def confirm_delete(request: PacsRequest, action: dict[str, Any]) -> None:
        value = str(action.get("value") or "")
        settings = await request.settings()
        lookup = await Lookup.start(request)
        entry = await folder_by_uuid(request, lookup, value)
        uuid = entry.folder.folder_uuid.lower()
        await require_permission(
            request, settings.delete, "delete folders", action="folder.delete", folder_uuids=[uuid]
        )
        async with audited(request, "folder.delete", folder_uuids=[uuid]):
            await lookup.handle.client.delete_folder(lookup.user, entry.folder.folder_uuid)
        forget_tree(request)
        await request.reply(
            f"Deleted the folder {entry.path}",
            message(
                f":wastebasket: Deleted the folder `{escape(entry.path)}`. Its orders are still in PostDICOM."
            ),
            replace_original=True,
        )

    async def add(request: PacsRequest, lookup: Lookup, rest: str) -> None:
        await file_by_command(request, lookup, rest, FILE_VERB, "/pacs folder add ACC0000001 Cases/2025")

    async def remove(request: PacsRequest, lookup: Lookup, rest: str) -> None:
        await file_by_command(request, lookup, rest, UNFILE_VERB, "/pacs folder remove ACC0000001 Cases/2025")

    async def file_by_command(
        request: PacsRequest, lookup: Lookup, rest: str, verb: str, example: str
    ) -> None:
        tokens = tokenize(unescape_slack(rest))
        if len(tokens) < 2:
            raise UsageError("give the order, then the folder", example)
        entry = await resolve_folder(request, lookup, " ".join(tokens[1:]))
        await act_on_reference(app, request, verb, tokens[0], entry.folder.folder_uuid.lower())

    async def file_order(request: PacsRequest, lookup: Lookup, order: PatientOrder, options: str) -> None:
        phi, names = await lookup.phi(), await lookup.names()
        if not options:
            entries = [
                entry for entry in await folder_entries(request, lookup) if not _in_folder(order, entry)
            ]
            await request.reply(
                "Add to which folder?",
                folder_picker_blocks(
                    order, phi, names, entries, verb=FILE_VERB, question="Add this order to which folder?"
                ),
            )
            return
        entry = await folder_by_uuid(request, lookup, options)
        summary = order_summary(order, phi, names)
        if _in_folder(order, entry):
            await request.reply(
                "Already there",
                message(f"This order is already in `{escape(entry.path)}`:\n{summary}"),
                replace_original=True,
            )
            return
        institution = order.institution_uuid or (await lookup.order(order_ref(order))).institution_uuid or ""
        uuid, folder = order.patient_order_uuid.lower(), entry.folder.folder_uuid.lower()
        async with audited(request, "folder.add_order", order_uuids=[uuid], folder_uuids=[folder]):
            await lookup.handle.client.add_order_to_folder(lookup.user, institution, uuid, [folder])
        forget_tree(request)
        await request.reply(
            f"Added to {entry.path}",
            message(f":file_folder: Added to `{escape(entry.path)}`:\n{summary}"),
            replace_original=True,
        )

    async def unfile_order(request: PacsRequest, lookup: Lookup, order: PatientOrder, options: str) -> None:
        phi, names = await lookup.phi(), await lookup.names()
        if not options:
            entries = [entry for entry in await folder_entries(request, lookup) if _in_folder(order, entry)]
            await request.reply(
                "Take out of which folder?",
                folder_picker_blocks(
                    order,
                    phi,
                    names,
                    entries,
                    verb=UNFILE_VERB,
                    question="Take this order out of which folder?",
                ),
            )
            return
        entry = await folder_by_uuid(request, lookup, options)
        summary = order_summary(order, phi, names)
        if not _in_folder(order, entry):
            await request.reply(
                "Not in that folder",
                message(
                    f"This order is not in `{escape(entry.path)}`, so there was nothing to remove:\n{summary}"
                ),
                replace_original=True,
            )
            return
        uuid, folder = order.patient_order_uuid.lower(), entry.folder.folder_uuid.lower()
        async with audited(request, "folder.remove_order", order_uuids=[uuid], folder_uuids=[folder]):
            await lookup.handle.client.remove_order_from_folder(lookup.user, folder, [uuid])
        forget_tree(request)
        await request.reply(
            f"Removed from {entry.path}",
            message(
                f":outbox_tray: Took this order out of `{escape(entry.path)}` (it stays in PostDICOM):\n{summary}"
            ),
            replace_original=True,
        )

    async def view(request: PacsRequest, lookup: Lookup, rest: str) -> None:
        entry = await resolve_folder(request, lookup, unescape_slack(rest).strip().strip("\"'"))
        uuid = entry.folder.folder_uuid.lower()
        async with audited(request, "folder.view", folder_uuids=[uuid]):
            link = await lookup.handle.client.get_folder_view_url(lookup.user, uuid)
        await request.reply(f"Viewer for {entry.path}", folder_view_blocks(entry.path, link.url))

    async def share(request: PacsRequest, lookup: Lookup, rest: str) -> None:
        words = split_words(rest, SHARE_OPTIONS)
        if not words.words:
            raise UsageError("which folder, and with whom?", SHARE_EXAMPLE)
        entries = await folder_entries(request, lookup)
        entry, remaining = split_leading_folder(words.words, entries)
        if entry is None:
            entry = await resolve_folder(request, lookup, words.words[0])
        settings = await request.settings()
        today = datetime.now(UTC).date()
        plan = parse_share(
            words, remaining, today, settings.default_share_expiry_days, settings.max_share_expiry_days
        )
        uuid = entry.folder.folder_uuid.lower()
        client, user = lookup.handle.client, lookup.user
        expires = plan.expires.isoformat()
        title = entry.path.rsplit("/", 1)[-1]
        upload = "upload_" if plan.upload else ""
        institution = ""
        if plan.upload:
            institution = (
                (await lookup.institution_uuids(plan.institution))[0]
                if plan.institution
                else lookup.handle.institution_uuid or ""
            )
            if not institution:
                raise UsageError(
                    "say which institution uploads go to", "/pacs folder share Cases link upload inst:Main"
                )
        # PostDICOM asks the share password and description of the caller; the app lets it choose.
        folder_share = FolderShareCall(
            user_uuid=user,
            folder_uuid=uuid,
            share_password=None,
            share_title=title,
            share_description=None,
            expire_date=expires,
        )
        by_email = EmailRecipients(
            email=plan.email, email_for_sending_share_password=plan.password_to or None
        )
        if plan.link:
            async with audited(request, f"folder.share_{upload}link", folder_uuids=[uuid]):
                if plan.upload:
                    link = await client.share_folder_to_upload_with_url(
                        **folder_share, user_can_download_studies=plan.download, institution_uuid=institution
                    )
                else:
                    link = await client.share_folder_with_url(
                        **folder_share, user_can_download_studies=plan.download
                    )
            await request.reply(
                f"Folder {title} shared",
                folder_link_blocks(
                    entry.path,
                    link.url,
                    expires=expires,
                    shared_by=request.user_id,
                    upload=plan.upload,
                    download=plan.download,
                ),
                in_channel=True,
            )
            return
        if plan.email:
            await require_permission(
                request,
                settings.email_share,
                "share by e-mail",
                action=f"folder.share_{upload}email",
                folder_uuids=[uuid],
            )
            async with audited(request, f"folder.share_{upload}email", folder_uuids=[uuid]):
                if plan.upload:
                    await client.share_folder_to_upload_with_email(
                        **folder_share,
                        **by_email,
                        user_can_download_studies=plan.download,
                        institution_uuid=institution,
                    )
                else:
                    await client.share_folder_with_email(
                        **folder_share, **by_email, user_can_download_studies=plan.download
                    )
            what = "an invitation to upload into" if plan.upload else "a link to"
            await request.reply(
                "Folder shared by e-mail",
                message(
                    f":email: PostDICOM e-mailed {what} `{escape(entry.path)}` to {escape(plan.email)} "
                    f"(expires {expires}).",
                    hint="The share password goes to " + escape(plan.password_to or plan.email) + ".",
                ),
            )
            return
        if plan.slack_users:
            people = [
                await postdicom_user_for(request, lookup.handle, slack_user)
                for slack_user in plan.slack_users
            ]
            uuids = list(dict.fromkeys(person.user_uuid.lower() for person in people))
            async with audited(request, "folder.share_user", folder_uuids=[uuid]):
                await client.share_folder_with_account_user(user, uuid, uuids, expires)
            mentions = ", ".join(f"<@{slack_user}>" for slack_user in plan.slack_users)
            await request.reply(
                "Folder shared",
                message(
                    f":busts_in_silhouette: Shared `{escape(entry.path)}` with {mentions} in PostDICOM until {expires}."
                ),
            )
            return
        groups = await dictionaries.user_groups(request.workspace.key, client, user)
        found = match(plan.group, [Candidate(group.user_group_name, group) for group in groups])
        if found.chosen is None:
            options = found.ambiguous or found.closest
            hint = ", ".join(candidate.name for candidate in options[:5]) or ", ".join(
                group.user_group_name for group in groups[:5]
            )
            raise UsageError(
                f"no single user group is called '{plan.group}' (closest: {hint or 'none'})",
                f"/pacs folder share {title} {options[0].name if options else 'Radiologists'}",
            )
        group = found.chosen.value
        async with audited(request, "folder.share_group", folder_uuids=[uuid]):
            await client.share_folder_with_account_user_group(user, uuid, [group.user_group_uuid], expires)
        await request.reply(
            "Folder shared",
            message(
                f":busts_in_silhouette: Shared `{escape(entry.path)}` with the group *{escape(group.user_group_name)}* "
                f"in PostDICOM until {expires}."
            ),
        )

    actions: dict[str, SubHandler] = {
        "list": list_folders,
        "ls": list_folders,
        "create": create,
        "new": create,
        "mkdir": create,
        "delete": delete,
        "rm": delete,
        "add": add,
        "remove": remove,
        "view": view,
        "open": view,
        "share": share,
    }

    async def folder_command(request: PacsRequest) -> None:
        first, _, rest = request.text.strip().partition(" ")
        handler = actions.get(first.lower() or "list")
        if handler is None:
            raise UsageError(
                f"there is no `folder {first}`; try list, create, delete, add, remove, view or share",
                FOLDER_EXAMPLE,
            )
        await handler(request, await Lookup.start(request), rest.strip())

    async def dismiss(request: PacsRequest, _action: dict[str, Any]) -> None:
        await request.delete_source()

    async def acknowledge_link(ack: AsyncAck) -> None:
        # Link buttons open in the browser; Slack still tells the app, and wants an ack.
        await ack()

    on_order(app, FILE_VERB, file_order, question="Which order goes into the folder?")
    on_order(app, UNFILE_VERB, unfile_order, question="Which order comes out of the folder?")
    app.router.add(
        "folder",
        folder_command,
        summary="Folders: list, create (a/b makes missing levels), delete, add/remove orders, view, share",
        usage="folder list [path] | create <a/b> [desc] | delete <folder> | add <ref> <folder> | remove <ref> <folder> | "
        "view <folder> | share <folder> (link|email:…|@user|group) [expires:30d] [upload] [download]",
        examples=(
            "/pacs folder list",
            '/pacs folder create "Research/Trial B" Second trial',
            "/pacs folder add ACC0000001 Cases/2025",
            "/pacs folder share Cases link expires:30d",
            "/pacs folder share Cases email:ref@example.org upload",
        ),
        aliases=("folders",),
    )
    app.action(FOLDER_DELETE_ACTION, confirm_delete)
    # The Cancel button of every confirmation (folders', orders') lands here.
    app.action(DISMISS_ACTION, dismiss)
    app.bolt.action(FOLDER_LINK_ACTION)(acknowledge_link)
