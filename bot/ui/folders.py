"""Folders as Slack sees them: the tree, the delete confirmation, the folder picker and share links.

Pure functions. Folder names are PostDICOM data and are escaped; an order in a picker goes through
:func:`bot.ui.orders.order_summary`, so the PHI setting holds here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    StaticSelectElement,
)

from bot.postdicom import Folder, PatientOrder
from bot.store import PhiDisplay
from bot.ui.blocks import JsonBlock, context, escape, header, option, section, to_json, truncate
from bot.ui.confirm import confirm_actions
from bot.ui.orders import PICK_ACTION, Names, order_ref, order_summary

FOLDER_DELETE_ACTION = "folder.delete"
FOLDER_LINK_ACTION = "folder.open_link"
MAX_OPTIONS = 100
MAX_TREE_SECTIONS = 40
SECTION_CHARS = 2900
# Escaping can make a character five ("&" is "&amp;"): 150 of them, 80 of description and ten
# levels of indent stay far below SECTION_CHARS.
MAX_NAME_CHARS = 150
MAX_INDENT_LEVELS = 10


class FolderLike(Protocol):
    """A folder with its full path, as the folder dictionary holds it."""

    @property
    def folder(self) -> Folder: ...
    @property
    def path(self) -> str: ...


def tree_order(entries: Sequence[FolderLike]) -> list[FolderLike]:
    """Sort folders so that each comes right after its parent, siblings alphabetically."""
    return sorted(entries, key=lambda entry: [part.casefold() for part in entry.path.split("/")])


def _counts(folder: Folder) -> str:
    parts = [f"{folder.order_count} order{'s' if folder.order_count != 1 else ''}"]
    if folder.all_sub_order_count > folder.order_count:
        parts.append(f"{folder.all_sub_order_count} with subfolders")
    if folder.is_shared:
        parts.append("shared")
    return " · ".join(parts)


def _tree_line(entry: FolderLike) -> str:
    """Write one folder's line; name, description and indent are capped, so a line always fits a section."""
    depth = min(entry.path.count("/"), MAX_INDENT_LEVELS)
    name = truncate(entry.path.rsplit("/", 1)[-1].strip() or "(no name)", MAX_NAME_CHARS)
    description = (
        f" — _{escape(truncate(entry.folder.folder_description, 80))}_"
        if entry.folder.folder_description.strip()
        else ""
    )
    return f"{'        ' * depth}:file_folder: *{escape(name)}*{description}  ({_counts(entry.folder)})"


def folder_tree_blocks(entries: Sequence[FolderLike], *, under: str = "") -> list[JsonBlock]:
    """List folders as an indented tree, in as few sections as Slack's limits allow."""
    blocks: list[Block] = [header(f"Folders in {under}" if under else "Folders")]
    if not entries:
        blocks.append(section("No folders yet. Create one with `/pacs folder create Cases/2026`."))
        return to_json(blocks)
    chunks: list[str] = []
    current: list[str] = []
    shown = 0
    for entry in tree_order(entries):
        line = _tree_line(entry)
        if current and sum(len(item) + 1 for item in current) + len(line) > SECTION_CHARS:
            chunks.append("\n".join(current))
            current = []
            if len(chunks) >= MAX_TREE_SECTIONS:
                break
        current.append(line)
        shown += 1
    if current and len(chunks) < MAX_TREE_SECTIONS:
        chunks.append("\n".join(current))
    blocks += [section(chunk) for chunk in chunks]
    hints = ["See a folder's orders with `/pacs search folder:<path>`."]
    if shown < len(entries):
        hints.insert(0, f"{len(entries) - shown} more not shown; `/pacs folder list <path>` narrows it down.")
    blocks.append(context(*hints))
    return to_json(blocks)


def folder_delete_blocks(entry: FolderLike) -> list[JsonBlock]:
    """Ask whether to delete a folder, saying what goes with it and what stays."""
    folder = entry.folder
    below = folder.all_sub_folder_count or folder.sub_folder_count
    goes = f" and its {below} subfolder{'s' if below != 1 else ''}" if below else ""
    holds = max(folder.order_count, folder.all_sub_order_count)
    question = (
        f"Delete the folder *{escape(entry.path)}*{goes}? It holds {holds} order{'s' if holds != 1 else ''}; "
        "the orders stay in PostDICOM, only the folder goes."
    )
    return to_json(
        [
            section(f":wastebasket: {question}"),
            confirm_actions(
                label="Delete folder",
                action_id=FOLDER_DELETE_ACTION,
                value=folder.folder_uuid.lower(),
                title="Delete folder?",
                question=f"Delete {truncate(entry.path, 200)}{goes}? This cannot be undone from Slack.",
                yes="Delete",
            ),
        ]
    )


def folder_picker_blocks(
    order: PatientOrder,
    phi: PhiDisplay,
    names: Names,
    entries: Sequence[FolderLike],
    *,
    verb: str,
    question: str,
) -> list[JsonBlock]:
    """Ask which folder an order goes into (or out of); each option carries the verb, order and folder."""
    ordered = tree_order(entries)
    prefix = order_ref(order).encode(verb)
    blocks: list[Block] = [section(f"{question}\n{order_summary(order, phi, names)}")]
    if not ordered:
        blocks.append(context("There are no folders to choose from. Create one with `/pacs folder create`."))
        return to_json(blocks)
    choices = [
        option(truncate(entry.path, 75), f"{prefix}|{entry.folder.folder_uuid.lower()}")
        for entry in ordered[:MAX_OPTIONS]
    ]
    blocks.append(
        ActionsBlock(
            elements=[
                StaticSelectElement(action_id=PICK_ACTION, placeholder="Choose a folder", options=choices)
            ]
        )
    )
    if len(ordered) > MAX_OPTIONS:
        blocks.append(
            context(
                f"Only the first {MAX_OPTIONS} folders fit in this menu; "
                "for another, use `/pacs folder add <accession> <folder>`."
            )
        )
    return to_json(blocks)


def folder_link_blocks(
    path: str, url: str, *, expires: str, shared_by: str, upload: bool, download: bool
) -> list[JsonBlock]:
    """Announce a folder share link in a channel."""
    what = "upload into" if upload else "view"
    extras = [f"expires {expires}"]
    if download and not upload:
        extras.append("downloads allowed")
    text = f":link: <@{shared_by}> shared a link to {what} the folder *{escape(path)}* ({', '.join(extras)})."
    return to_json(
        [
            section(text),
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Upload here" if upload else "Open folder",
                        action_id=FOLDER_LINK_ACTION,
                        url=truncate(url, 3000),
                        value="open",
                    )
                ]
            ),
            context("Anyone with the link can use it until it expires."),
        ]
    )


def folder_view_blocks(path: str, url: str) -> list[JsonBlock]:
    """Give the requester a viewer link for a folder."""
    return to_json(
        [
            section(f":eyes: Viewer for the folder *{escape(path)}*, for you only."),
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Open viewer",
                        action_id=FOLDER_LINK_ACTION,
                        url=truncate(url, 3000),
                        value="open",
                    )
                ]
            ),
            context(
                "PostDICOM ties viewer links to where they are requested from, so this one is not for passing on. "
                "To show colleagues, use `/pacs folder share <folder> link`."
            ),
        ]
    )
