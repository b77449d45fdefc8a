"""Uploads in Slack: the progress message, the study cards when done, failures, the ask prompt, the
anonymization modal and the channel's upload settings. Pure: values in, Block Kit JSON out."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, cast

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    CheckboxesElement,
    InputBlock,
    Option,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot.dicom import StudyGroup
from bot.jobs import Failure, Outcome, Phase, Progress
from bot.postdicom import PatientOrder
from bot.store import ChannelSettings, PhiDisplay, UploadMode
from bot.ui.blocks import JsonBlock, button, context, escape, section, to_json, truncate
from bot.ui.confirm import confirm_actions
from bot.ui.orders import Names, order_blocks
from bot.ui.shares import link

UPLOAD_ACTION = "upload.start"
ANONYMIZE_ACTION = "upload.anonymize"
IGNORE_ACTION = "upload.ignore"
ATTACH_ACTION = "upload.attach"
RETRY_UPLOAD_ACTION = "upload.retry"
CREATE_FOLDERS_ACTION = "channel.create_folders"
ANONYMIZE_MODAL = "upload.anonymize"
FIELD_ACTION = "value"
MAX_CARDS = 5
_BAR_WIDTH = 10


@dataclass(frozen=True, slots=True)
class AnonymizationField:
    """One field of the anonymization modal: the DICOM tag key it replaces and its limits."""

    block_id: str
    label: str
    tag_keys: tuple[str, ...]
    max_length: int
    hint: str = ""


ANONYMIZATION_FIELDS = (
    AnonymizationField(
        "patient_name", "Patient name", ("PatientName",), 64, "Family^Given, as DICOM writes names"
    ),
    AnonymizationField("patient_id", "Patient ID", ("PatientId",), 64),
    AnonymizationField(
        "other_patient_id", "Other patient IDs", ("OtherPatientId",), 64, "Empty removes them"
    ),
    AnonymizationField("accession_number", "Accession number", ("AccessionNumber",), 16),
    AnonymizationField(
        "institution", "Institution", ("InstitutionName", "InstitutionAddress"), 64, "Also clears its address"
    ),
    AnonymizationField("referring_physician", "Referring physician", ("ReferringPhysicianName",), 64),
    AnonymizationField("study_description", "Study description", ("StudyDescription",), 64),
    AnonymizationField(
        "study_date", "Study date", ("StudyDate",), 10, "YYYY-MM-DD; the year alone is kept by default"
    ),
)


# --- progress -------------------------------------------------------------------------------------


def _bar(percent: int) -> str:
    filled = round(percent * _BAR_WIDTH / 100)
    return "▓" * filled + "░" * (_BAR_WIDTH - filled)


def progress_text(progress: Progress) -> str:
    """Say where a job is in a few words: "uploading 7/12 files, 63%"."""
    percent = progress.percent
    if progress.phase is Phase.QUEUED:
        return "queued"
    if progress.phase is Phase.DOWNLOADING:
        return f"downloading {percent}%" if percent is not None else "downloading"
    if progress.phase is Phase.CHECKING:
        if progress.files_total:
            return f"checking {progress.files_done}/{progress.files_total} files"
        return "checking"
    files = f"{progress.files_done}/{progress.files_total} files" if progress.files_total > 1 else ""
    amount = ", ".join(part for part in (files, f"{percent}%" if percent is not None else "") if part)
    verb = "retrying" if progress.phase is Phase.RETRYING else "uploading"
    return f"{verb} {amount}".strip()


ShownStatus = Literal["working", "done", "failed"]
_STATUSES: frozenset[str] = frozenset(("working", "done", "failed"))


@dataclass(frozen=True, slots=True)
class ShownCard:
    """An uploaded study's card in a job's part, and whether it carries the study's share link."""

    order_uuid: str
    linked: bool
    blocks: list[JsonBlock]


@dataclass(frozen=True, slots=True)
class Shown:
    """What one job shows: a heading, its studies' cards and notes, and where the job stands.

    The files of one share show in one message; :func:`share_message` puts their parts together.
    """

    text: str
    head: list[JsonBlock]
    cards: list[ShownCard] = dataclasses.field(default_factory=list)
    tail: list[JsonBlock] = dataclasses.field(default_factory=list)
    status: ShownStatus = "working"  # "failed" is for good: a retry to come is still working

    @property
    def blocks(self) -> list[JsonBlock]:
        """Return the blocks of this part alone."""
        return [*self.head, *(block for card in self.cards for block in card.blocks), *self.tail]

    @property
    def linked_orders(self) -> set[str]:
        """Return the orders whose card here carries a share link."""
        return {card.order_uuid for card in self.cards if card.linked}

    def to_store(self) -> dict[str, Any]:
        """Return this part as JSON-ready data, to keep with the job."""
        return {
            "text": self.text,
            "head": self.head,
            "cards": [dataclasses.asdict(card) for card in self.cards],
            "tail": self.tail,
            "status": self.status,
        }

    @classmethod
    def from_store(cls, data: Mapping[str, Any]) -> Shown:
        """Read a part kept with a job."""
        status = str(data.get("status") or "")
        return cls(
            str(data.get("text") or ""),
            list(data.get("head") or []),
            [
                ShownCard(str(card["order_uuid"]), bool(card["linked"]), list(card["blocks"]))
                for card in data.get("cards") or []
            ],
            list(data.get("tail") or []),
            cast(ShownStatus, status) if status in _STATUSES else "working",
        )


MAX_MESSAGE_BLOCKS = 50  # Slack refuses a message with more


def share_message(parts: Sequence[Shown]) -> tuple[str, list[JsonBlock]]:
    """Put the parts of a share's files into one message: every file's heading, each study once."""
    if len(parts) == 1:
        return parts[0].text, parts[0].blocks[:MAX_MESSAGE_BLOCKS]
    cards: dict[str, ShownCard] = {}
    for part in parts:
        for card in part.cards:
            known = cards.get(card.order_uuid)
            if known is None or (card.linked and not known.linked):
                cards[card.order_uuid] = card
    tails = list({json.dumps(block, sort_keys=True): block for part in parts for block in part.tail}.values())
    if len(cards) > MAX_CARDS:
        tails.insert(
            0,
            to_json(
                [context(f"…and {len(cards) - MAX_CARDS} more studies; search for them with `/pacs search`.")]
            )[0],
        )
    # A line for the whole share and every file's heading; then, while Slack's limit leaves room:
    # what is under each heading (a bar, a Retry button), the studies' cards whole, the notes.
    summary = _share_summary(parts)
    headed = _parts_with_a_heading(parts)
    hidden = len(parts) - len(headed)
    room = MAX_MESSAGE_BLOCKS - len(headed) - 1 - (1 if hidden else 0)
    blocks: list[JsonBlock] = to_json([section(summary)])
    for part in headed:
        blocks.append(part.head[0])
        if len(part.head) - 1 <= room:
            blocks += part.head[1:]
            room -= len(part.head) - 1
    if hidden:
        left_out = [part for part in parts if not any(part is shown for shown in headed)]
        state = "all in PostDICOM" if all(part.status == "done" for part in left_out) else "counted above"
        blocks += to_json([context(f"…and {_plural(hidden, 'more file')} of this share, {state}.")])
    for card in list(cards.values())[:MAX_CARDS]:
        if len(card.blocks) <= room:
            blocks += card.blocks
            room -= len(card.blocks)
    blocks += tails[:room]
    text = summary + ": " + "; ".join(part.text for part in parts)
    return truncate(text, 3000), blocks


def _parts_with_a_heading(parts: Sequence[Shown]) -> list[Shown]:
    """Pick the parts whose heading fits beside the summary; files still at work or failed come first."""
    if len(parts) <= MAX_MESSAGE_BLOCKS - 1:
        return list(parts)
    # Slack refuses more than 50 blocks: the summary, a line for the files left out, 48 headings.
    rank = {"failed": 0, "working": 1, "done": 2}
    chosen = sorted(range(len(parts)), key=lambda index: (rank[parts[index].status], index))
    kept = sorted(chosen[: MAX_MESSAGE_BLOCKS - 2])
    return [parts[index] for index in kept]


def _share_summary(parts: Sequence[Shown]) -> str:
    done = sum(part.status == "done" for part in parts)
    failed = sum(part.status == "failed" for part in parts)
    files = _plural(len(parts), "file")
    if done == len(parts):
        return f":white_check_mark: *{files} shared here are in PostDICOM*"
    if done + failed == len(parts):
        return f":warning: *{done} of {files} shared here are in PostDICOM*; {failed} not uploaded"
    counts = ", ".join(
        item for item in (f"{done} done" if done else "", f"{failed} not uploaded" if failed else "") if item
    )
    return f":arrows_counterclockwise: *{files} → PostDICOM*" + (f" · {counts}" if counts else "")


def progress_message(name: str, progress: Progress) -> Shown:
    """Render the progress message of a job: the file, a bar and where it is."""
    state = progress_text(progress)
    percent = progress.percent
    line = f":arrows_counterclockwise: `{escape(name)}` → PostDICOM · {state}"
    blocks: list[Block] = [section(line)]
    if percent is not None and progress.phase in (Phase.DOWNLOADING, Phase.UPLOADING, Phase.RETRYING):
        blocks.append(context(f"`{_bar(percent)}` {percent}%"))
    if progress.note:
        blocks.append(context(escape(progress.note)))
    return Shown(f"{name}: {state}", to_json(blocks))


# --- done -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StudyCard:
    """One uploaded study: its order (as PostDICOM now has it) and its share link, if one was made."""

    order: PatientOrder
    share_url: str | None


def done_message(
    name: str,
    outcome: Outcome,
    cards: Sequence[StudyCard],
    phi: PhiDisplay,
    names: Names,
    *,
    expires: date,
    folder_path: str | None,
) -> Shown:
    """Render a finished job: what landed where, and each study's card with its share link."""
    if outcome.kind == "document":
        head = f":white_check_mark: `{escape(outcome.document_name or name)}` attached to the order"
        if outcome.files_already_there:
            head += " (it was attached already)"
    else:
        head = f":white_check_mark: `{escape(name)}` is in PostDICOM: {_instances_summary(outcome)}"
        if folder_path:
            head += f" in folder *{escape(folder_path)}*"
    shown_cards = []
    for card in cards[:MAX_CARDS]:
        blocks: list[Block] = []
        if card.share_url:
            blocks.append(
                section(
                    f":link: *{link(card.share_url, 'Open the study')}* · expires after {expires.isoformat()}"
                )
            )
        blocks += order_blocks(card.order, phi, names)
        shown_cards.append(
            ShownCard(card.order.patient_order_uuid.lower(), card.share_url is not None, to_json(blocks))
        )
    tail: list[Block] = []
    if len(cards) > MAX_CARDS:
        tail.append(
            context(f"…and {len(cards) - MAX_CARDS} more studies; search for them with `/pacs search`.")
        )
    notes = _notes(outcome, phi)
    if notes:
        tail.append(context(notes))
    return Shown(
        f"{name}: uploaded to PostDICOM", to_json([section(head)]), shown_cards, to_json(tail), status="done"
    )


def _plural(count: int, word: str, plural: str = "") -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _instances_summary(outcome: Outcome) -> str:
    parts = [_plural(outcome.files_sent, "image") + " uploaded"]
    if outcome.files_already_there:
        parts.append(f"{outcome.files_already_there} already there")
    if outcome.anonymized:
        parts.append("anonymized")
    return ", ".join(parts)


def _notes(outcome: Outcome, phi: PhiDisplay) -> str:
    notes = []
    if outcome.dicomdirs:
        notes.append("the DICOMDIR index was left out (PostDICOM builds its own)")
    if outcome.duplicates:
        notes.append(f"{_plural(outcome.duplicates, 'repeated copy')} of an image left out")
    if outcome.skipped:
        listed = ""
        if phi is PhiDisplay.FULL:
            shown = ", ".join(f"`{escape(item)}`" for item in outcome.skipped[:5])
            listed = f": {shown}" + ("…" if len(outcome.skipped) > 5 else "")
        notes.append(f"{_plural(len(outcome.skipped), 'file')} that are not DICOM skipped{listed}")
    text = "; ".join(notes)
    return text[:1].upper() + text[1:]


# --- failures -------------------------------------------------------------------------------------


def failure_message(
    name: str, failure: Failure, *, final: bool, retry_at: datetime | None, job_id: str
) -> Shown:
    """Render a failed attempt: what failed, and a Retry button or when it will retry by itself."""
    if final:
        blocks: list[Block] = [section(f":x: `{escape(name)}` was not uploaded. {failure.message}")]
        if failure.retryable or failure.code.startswith(("download.", "postdicom.", "slack.")):
            blocks.append(
                ActionsBlock(elements=[button("Retry", RETRY_UPLOAD_ACTION, job_id, style="primary")])
            )
        return Shown(f"{name}: not uploaded", to_json(blocks), status="failed")
    when = f"at {retry_at.strftime('%H:%M')} UTC" if retry_at is not None else "soon"
    blocks = [
        section(f":hourglass: `{escape(name)}` → PostDICOM · waiting to retry"),
        context(f"{escape(failure.message)} I will try again {when}."),
    ]
    return Shown(f"{name}: waiting to retry", to_json(blocks))


# --- asking ---------------------------------------------------------------------------------------


def studies_text(files: int, studies: Sequence[StudyGroup]) -> str:
    """Describe DICOM found: "12 DICOM files, 1 study (CT, 2026-11-02)"."""
    described = []
    for study in studies[:3]:
        parts = [part for part in ("/".join(study.modalities), study.study_date) if part]
        described.append(", ".join(parts) or "no date")
    more = f"; {len(studies) - 3} more" if len(studies) > 3 else ""
    return f"{_plural(files, 'DICOM file')}, {_plural(len(studies), 'study', 'studies')} ({'; '.join(described)}{more})"


def prompt_blocks(
    *,
    what: str,
    value: str,
    anonymize_by_default: bool,
    folder_path: str | None,
    problems: Sequence[str] = (),
    shared_with: str | None = None,
) -> list[JsonBlock]:
    """Ask the person who shared DICOM whether to upload it: Upload / Upload anonymized… / Ignore."""
    where = f" into *{escape(folder_path)}*" if folder_path else ""
    blocks: list[Block] = [section(f":inbox_tray: {escape(what)}. Upload to PostDICOM{where}?")]
    if shared_with:
        blocks.append(
            context(
                f":globe_with_meridians: This channel is shared with *{escape(shared_with)}*: "
                "the card posted here will hide the patient's name."
            )
        )
    elements = []
    if anonymize_by_default:
        elements.append(button("Upload anonymized", UPLOAD_ACTION, value, style="primary"))
    else:
        elements.append(button("Upload", UPLOAD_ACTION, value, style="primary"))
    elements += [
        button("Upload anonymized…", ANONYMIZE_ACTION, value),
        button("Ignore", IGNORE_ACTION, value),
    ]
    blocks.append(ActionsBlock(elements=elements))
    for problem in problems[:5]:
        blocks.append(context(f":warning: {escape(problem)}"))
    blocks.append(
        context("Only you can see this. Anonymized uploads replace names and IDs before anything leaves.")
    )
    return to_json(blocks)


def members_prompt(file_count: int, shared_with: str, value: str) -> tuple[str, list[JsonBlock]]:
    """Ask this workspace's members, with no patient data, whether another organisation's files go to PostDICOM."""
    files = f"{file_count} file{'s' if file_count != 1 else ''}"
    text = f"Someone from {shared_with} shared {files} here. Upload to PostDICOM?"
    blocks: list[Block] = [
        section(
            f":inbox_tray: Someone from *{escape(shared_with)}* shared {files} here. Nothing is uploaded "
            "unless a member of this workspace chooses to."
        ),
        ActionsBlock(
            elements=[
                button("Upload", UPLOAD_ACTION, value, style="primary"),
                button("Ignore", IGNORE_ACTION, value),
            ]
        ),
    ]
    return text, to_json(blocks)


def attach_prompt_blocks(document_names: Sequence[str], order_summary: str, value: str) -> list[JsonBlock]:
    """Ask whether documents shared in an order's thread should be attached to that order."""
    files = ", ".join(f"`{escape(name)}`" for name in document_names[:5])
    blocks: list[Block] = [
        section(f":paperclip: Attach {files} to this order in PostDICOM?\n{order_summary}"),
        ActionsBlock(
            elements=[
                button("Attach", ATTACH_ACTION, value, style="primary"),
                button("Ignore", IGNORE_ACTION, value),
            ]
        ),
    ]
    return to_json(blocks)


def problems_blocks(problems: Sequence[str]) -> list[JsonBlock]:
    """Tell the person who shared files why some cannot be uploaded."""
    return to_json([section(":warning: " + escape(problem)) for problem in problems[:10]])


# --- the anonymization modal ----------------------------------------------------------------------


def default_replacements(token: str, *, modality: str = "", year: str = "") -> dict[str, str]:
    """Return the values the modal starts with: no name, a fresh pseudonymous ID, the year kept."""
    return {
        "patient_name": "ANONYMOUS^PATIENT",
        "patient_id": f"ANON-{token}",
        "other_patient_id": "",
        "accession_number": "",
        "institution": "",
        "referring_physician": "",
        "study_description": f"{modality} study".strip() if modality else "",
        "study_date": f"{year}-01-01" if year else "",
    }


def anonymize_modal(initial: Mapping[str, str], private_metadata: str, *, files: int) -> dict[str, Any]:
    """Build the modal that asks which values replace the patient's before upload."""
    blocks: list[Block] = [
        section(
            f"The {_plural(files, 'file')} will be de-identified to the DICOM standard's Basic "
            "Profile (PS3.15 Annex E) before they leave this server; these values replace its blanks. "
            "An empty field leaves the profile's blank."
        )
    ]
    for field in ANONYMIZATION_FIELDS:
        blocks.append(
            InputBlock(
                block_id=field.block_id,
                label=field.label,
                optional=True,
                hint=field.hint or None,
                element=PlainTextInputElement(
                    action_id=FIELD_ACTION,
                    initial_value=initial.get(field.block_id) or None,
                    max_length=field.max_length,
                ),
            )
        )
    blocks.append(pixel_risk_block())
    view = View(
        type="modal",
        callback_id=ANONYMIZE_MODAL,
        title="Upload anonymized",
        submit="Upload",
        close="Cancel",
        private_metadata=truncate(private_metadata, 3000),
        blocks=blocks,
    )
    return view.to_dict()


PIXEL_RISK_BLOCK = "pixel_risk"
PIXEL_RISK_CONFIRMED = "confirmed"


def pixel_risk_block() -> InputBlock:
    """Build the modal's box that accepts images whose pixels may show the patient's name."""
    return InputBlock(
        block_id=PIXEL_RISK_BLOCK,
        label="Burned-in text",
        optional=True,
        hint=(
            "De-identification changes the DICOM header, not the pixels. Ultrasound images, screen "
            "captures and images marked as carrying burned-in text are held back unless you tick this."
        ),
        element=CheckboxesElement(
            action_id=FIELD_ACTION,
            options=[
                Option(
                    value=PIXEL_RISK_CONFIRMED,
                    text="I checked: no name or other identifier shows in these images",
                )
            ],
        ),
    )


def pixel_risk_confirmed(view: Mapping[str, Any]) -> bool:
    """Tell whether the modal came back with the burned-in text box ticked."""
    state = (view.get("state") or {}).get("values") or {}
    chosen = ((state.get(PIXEL_RISK_BLOCK) or {}).get(FIELD_ACTION) or {}).get("selected_options") or []
    return any(
        isinstance(option, Mapping) and option.get("value") == PIXEL_RISK_CONFIRMED for option in chosen
    )


def submitted_values(view: Mapping[str, Any]) -> dict[str, str]:
    """Read the modal's fields as submitted (a cleared field is an empty string)."""
    state = (view.get("state") or {}).get("values") or {}
    values = {}
    for field in ANONYMIZATION_FIELDS:
        value = ((state.get(field.block_id) or {}).get(FIELD_ACTION) or {}).get("value")
        values[field.block_id] = str(value or "").strip()
    return values


def encode_metadata(data: Mapping[str, Any]) -> str:
    """Encode what the modal needs back (channel, thread, files; never patient data)."""
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


# --- channel settings -----------------------------------------------------------------------------


def channel_settings_blocks(channel_id: str, settings: ChannelSettings, *, changed: bool) -> list[JsonBlock]:
    """Show a channel's upload settings."""
    mode = {
        UploadMode.AUTO: "*auto*: DICOM shared here is uploaded at once",
        UploadMode.ASK: "*ask*: whoever shares DICOM here is asked first",
        UploadMode.OFF: "*off*: files shared here are left alone",
    }[settings.upload_mode]
    folder = f"folder *{escape(settings.target_folder_path)}*" if settings.target_folder_path else "no folder"
    anonymize = "anonymized by default" if settings.anonymize_by_default else "not anonymized by default"
    head = "Saved. " if changed else ""
    return to_json(
        [
            section(f"{head}Uploads in <#{channel_id}>: {mode}; {folder}; {anonymize}."),
            context(
                "Change with `/pacs channel auto|ask|off [folder:<path>|folder:none] [anonymize:on|off]` (admins)."
            ),
        ]
    )


def nothing_in_zip(name: str, skipped: int) -> str:
    """Say that an archive holds no DICOM."""
    other = f" ({skipped} other file{'s' if skipped != 1 else ''})" if skipped else ""
    return f"`{name}` holds no DICOM files{other}, so there is nothing to upload."


def create_folders_blocks(path: str, missing: Sequence[str], command: str) -> list[JsonBlock]:
    """Ask before a channel's upload folder is made: name every folder PostDICOM would get."""
    listed = ", ".join(f"`{escape(name)}`" for name in missing)
    return to_json(
        [
            section(
                f":open_file_folder: The folder `{escape(path)}` does not exist in PostDICOM. Saving would "
                f"create {listed}. Nothing was saved yet."
            ),
            confirm_actions(
                label="Create and save",
                action_id=CREATE_FOLDERS_ACTION,
                value=command,
                title="Create folders?",
                question=f"Create {listed} in PostDICOM and upload this channel's files there?",
                yes="Create",
            ),
        ]
    )


NOT_ALLOWED_TEXT = (
    ":information_source: I leave files shared in this channel alone: /pacs is not allowed here. "
    "An admin can add this channel in `/pacs settings` (Channels where /pacs works)."
)
DOCUMENT_ROOT_TEXT = (
    ":information_source: I attach PDFs and other documents only when they are shared in the thread of "
    "an order's card (a share or an upload). Share the document there, or find the order with `/pacs search`."
)
OTHER_TYPE_TEXT = (
    ":information_source: I leave files here alone unless they are DICOM (files, zips of them) or "
    "documents (PDF, images) shared in an order's thread. Share those, or `/pacs help` for what I do."
)
NOT_A_MEMBER_TEXT = (
    ":warning: I am not in this channel, so I will not see files shared here. "
    "Invite me with `/invite @pacsbot`."
)


def explain_blocks(text: str) -> list[JsonBlock]:
    """Say why shared files were left alone, and what to do about it."""
    return to_json([section(text)])


ATTACH_MODAL = "upload.attach_to_order"
ATTACH_ORDER_BLOCK = "order"


def attach_modal(private_metadata: str, *, files: int) -> dict[str, Any]:
    """Build the modal that asks which order a message's documents go to."""
    view = View(
        type="modal",
        callback_id=ATTACH_MODAL,
        title="Attach to order",
        submit="Attach",
        close="Cancel",
        private_metadata=truncate(private_metadata, 3000),
        blocks=[
            section(f"{_plural(files, 'file')} will be attached to the order you name."),
            InputBlock(
                block_id=ATTACH_ORDER_BLOCK,
                label="Order",
                hint="An accession number, a patient ID, or a search that finds exactly one order.",
                element=PlainTextInputElement(action_id=FIELD_ACTION, max_length=200),
            ),
        ],
    )
    return view.to_dict()


def attach_target(view: Mapping[str, Any]) -> str:
    """Read the order reference typed into the attach modal."""
    state = (view.get("state") or {}).get("values") or {}
    return str(((state.get(ATTACH_ORDER_BLOCK) or {}).get(FIELD_ACTION) or {}).get("value") or "").strip()


def attaching_blocks(
    order: PatientOrder, phi: PhiDisplay, names: Names, *, requested_by: str
) -> list[JsonBlock]:
    """Announce in the thread which order the documents go to (the upload worker reads the order from it)."""
    return to_json(
        [
            section(f":paperclip: <@{requested_by}> is attaching this thread's documents to:"),
            *order_blocks(order, phi, names),
        ]
    )
