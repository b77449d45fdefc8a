"""Every Block Kit builder in bot/ui, fed realistic and extreme inputs, produces what the strict stub accepts.

Inputs are generated (hypothesis): long and empty names, markup characters that escaping grows
five-fold, 100 results, 50 files in one share, many flags and assignees. Each surface is checked
with the stub's own validator (bot/sandbox/slack/blockkit.py), so a builder that passes here is
not refused by Slack with ``invalid_blocks`` or ``invalid_arguments``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.dicom import StudyGroup
from bot.jobs import Failure, Outcome, Phase, Progress
from bot.postdicom import (
    Account,
    AccountUser,
    DicomNode,
    Flag,
    FlagGroup,
    FlagRef,
    Folder,
    Institution,
    PatientOrder,
    UserGroup,
)
from bot.sandbox.slack.blockkit import check_message_blocks, check_view
from bot.store import ChannelSettings, PhiDisplay, UploadMode, WorkspaceSettings
from bot.ui import (
    assignments,
    connect,
    directory,
    flags,
    folders,
    help,
    home,
    order_details,
    order_forms,
    shares,
    status,
    subscriptions,
    uploads,
)
from bot.ui import blocks as blocks_ui
from bot.ui import orders as orders_ui
from bot.ui import settings as settings_ui
from bot.ui.assignments import Assignee, Place
from bot.ui.orders import Names

T = TypeVar("T")
FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Lengths around Slack's limits (75, 150, 2,000, 3,000) and characters escaping grows ("&" → "&amp;").
EDGE_LENGTHS = (0, 1, 24, 25, 74, 75, 76, 149, 150, 151, 1999, 2001, 2999, 3001, 4000)
EDGE_CHARACTERS = ("a", "&", "<", "é", " ", "*", "`", "😀", "^")


def extreme_text() -> st.SearchStrategy[str]:
    """Short free text, or one character repeated to a length around a Slack limit."""
    repeated = st.builds(
        lambda ch, n: ch * n, st.sampled_from(EDGE_CHARACTERS), st.sampled_from(EDGE_LENGTHS)
    )
    return st.one_of(st.text(max_size=40), repeated)


uuids = st.uuids().map(str)
phis = st.sampled_from(list(PhiDisplay))
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
urls = st.one_of(
    st.just("https://www.postdicom.com/v/abc"),
    st.integers(min_value=1, max_value=2900).map(lambda n: "https://x.example/" + "a" * n),
)


def model(cls: Callable[..., T], **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[T]:
    """Build a pydantic model from strategies per field name (st.builds would also fill its aliases)."""
    return st.fixed_dictionaries(fields).map(lambda values: cls(**values))


def lists(strategy: st.SearchStrategy[T], max_size: int) -> st.SearchStrategy[list[T]]:
    return st.lists(strategy, max_size=max_size)


flag_refs = model(FlagRef, group_id=st.integers(1, 5), flag_id=st.integers(1, 30))
patient_orders = model(
    PatientOrder,
    patient_order_uuid=uuids,
    institution_uuid=st.one_of(st.none(), uuids),
    patient_name=extreme_text(),
    patient_id=extreme_text(),
    patient_birthdate=st.sampled_from(["", "19500101", "1950-01-01", "garbage"]),
    accession_number=extreme_text(),
    order_modality=st.sampled_from(["", "CT", "MR", "CT\\SR", "X" * 80]),
    study_description=extreme_text(),
    performed_datetime=st.sampled_from(["", "20260105093000", "2026-01-05 09:30", "x" * 50]),
    images_count=st.integers(0, 100_000),
    flag_list=lists(flag_refs, 30),
    assigned_user_uuid_list=lists(uuids, 20),
    assigned_user_group_uuid_list=lists(uuids, 20),
    folder_uuid_list=lists(uuids, 10),
    institution_name=extreme_text(),
)
flag_groups = model(
    FlagGroup,
    group_id=st.integers(1, 5),
    group_name=extreme_text(),
    flag_list=lists(model(Flag, flag_id=st.integers(1, 30), flag_name=extreme_text()), 40),
)
account_users = model(
    AccountUser,
    user_uuid=uuids,
    full_name=extreme_text(),
    user_name=extreme_text(),
    email=extreme_text(),
    institution_list=lists(model(Institution, institution_uuid=uuids, institution_name=extreme_text()), 3),
)
user_groups = model(UserGroup, user_group_uuid=uuids, user_group_name=extreme_text())
names = st.builds(Names.of, lists(flag_groups, 4), lists(account_users, 30), lists(user_groups, 10))
metadata_text = st.text(max_size=200)


def accepted(blocks: list[dict[str, Any]]) -> None:
    assert check_message_blocks(blocks) == [], check_message_blocks(blocks)[:5]


def accepted_view(view: dict[str, Any]) -> None:
    assert check_view(view) == [], check_view(view)[:5]


# --- orders -----------------------------------------------------------------------------------


@FAST
@given(
    lists(patient_orders, 100), phis, names, st.integers(-2, 12), st.one_of(st.none(), st.just("tok" * 600))
)
def test_search_results(
    orders: list[PatientOrder], phi: PhiDisplay, named: Names, page: int, token: str | None
) -> None:
    accepted(orders_ui.results_blocks(orders, phi, named, page=page, page_token=token, what="x" * 300))


@FAST
@given(lists(patient_orders, 30), phis, names, extreme_text(), extreme_text())
def test_picker_and_cards(
    orders: list[PatientOrder], phi: PhiDisplay, named: Names, question: str, note: str
) -> None:
    accepted(
        orders_ui.picker_blocks(orders, phi, named, verb="share", question=question or "?", options="x" * 500)
    )
    for order in orders[:3]:
        accepted(orders_ui.order_card(order, phi, named, note=note))


@FAST
@given(
    patient_orders,
    phis,
    names,
    st.dictionaries(uuids, extreme_text(), max_size=10),
    st.dictionaries(uuids, extreme_text(), max_size=5),
)
def test_order_details(
    order: PatientOrder, phi: PhiDisplay, named: Names, paths: dict[str, str], nodes: dict[str, str]
) -> None:
    accepted(order_details.properties_blocks(order, phi, named, folder_paths=paths, node_names=nodes))
    accepted(order_details.delete_order_blocks(order, phi, named))


@FAST
@given(extreme_text(), lists(patient_orders, 100), phis, names, extreme_text())
def test_orders_list(
    title: str, orders: list[PatientOrder], phi: PhiDisplay, named: Names, note: str
) -> None:
    accepted(order_details.orders_list_blocks(title or "Orders", orders, phi, named, note=note))


# --- flags and assignments ----------------------------------------------------------------------


@FAST
@given(patient_orders, phis, names, lists(flag_groups, 6), metadata_text)
def test_flag_chooser_and_modal(
    order: PatientOrder, phi: PhiDisplay, named: Names, groups: list[FlagGroup], metadata: str
) -> None:
    choices = flags.flag_choices(groups)
    accepted(flags.flag_chooser_blocks(order, phi, named, choices, question="Which flag?"))
    accepted_view(flags.flag_modal(order, phi, named, choices, metadata=metadata))


assignees = st.builds(Assignee, kind=st.sampled_from(["user", "group"]), uuid=uuids, name=extreme_text())


@FAST
@given(patient_orders, phis, names, lists(assignees, 130), lists(assignees, 20), metadata_text)
def test_assign_menus(
    order: PatientOrder,
    phi: PhiDisplay,
    named: Names,
    candidates: list[Assignee],
    assigned: list[Assignee],
    metadata: str,
) -> None:
    for verb in ("assign", "unassign"):
        accepted(
            assignments.assign_chooser_blocks(
                order,
                phi,
                named,
                question="Whom?",
                candidates=candidates,
                assigned=assigned,
                verb=verb,  # type: ignore[arg-type]
            )
        )
    accepted_view(
        assignments.assign_modal(
            order, phi, named, candidates=candidates, assigned=assigned, metadata=metadata
        )
    )


@FAST
@given(patient_orders, phis, names, lists(st.builds(Place, uuid=uuids, name=extreme_text()), 120))
def test_location_chooser(order: PatientOrder, phi: PhiDisplay, named: Names, places: list[Place]) -> None:
    accepted(assignments.location_chooser_blocks(order, phi, named, question="Where?", places=places))


# --- folders --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    folder: Folder
    path: str


folder_entries = st.builds(
    lambda uuid, parts, description, count: Entry(
        Folder(folder_uuid=uuid, folder_name=parts[-1], folder_description=description, order_count=count),
        "/".join(parts),
    ),
    uuids,
    st.lists(extreme_text(), min_size=1, max_size=14),
    extreme_text(),
    st.integers(0, 10**6),
)


@FAST
@given(lists(folder_entries, 200), extreme_text())
def test_folder_tree(entries: list[Entry], under: str) -> None:
    accepted(folders.folder_tree_blocks(entries, under=under))


@FAST
@given(folder_entries, patient_orders, phis, names, lists(folder_entries, 120), urls, extreme_text())
def test_folder_surfaces(
    entry: Entry, order: PatientOrder, phi: PhiDisplay, named: Names, entries: list[Entry], url: str, who: str
) -> None:
    accepted(folders.folder_delete_blocks(entry))
    accepted(
        folders.folder_picker_blocks(order, phi, named, entries, verb="folder", question="Which folder?")
    )
    accepted(
        folders.folder_link_blocks(
            entry.path, url, expires="2026-12-31", shared_by=who, upload=True, download=False
        )
    )
    accepted(folders.folder_view_blocks(entry.path, url))


# --- shares ---------------------------------------------------------------------------------------


@FAST
@given(patient_orders, phis, names, urls, days, lists(extreme_text(), 10), metadata_text)
def test_share_surfaces(
    order: PatientOrder,
    phi: PhiDisplay,
    named: Names,
    url: str,
    expires: date,
    addresses: list[str],
    metadata: str,
) -> None:
    accepted(
        shares.share_link_blocks(
            order, phi, named, url=url, expires=expires, can_download=True, shared_by="U1"
        )
    )
    accepted(shares.view_link_blocks(order, phi, named, url=url))
    accepted(
        shares.email_shared_blocks(
            order,
            phi,
            named,
            addresses=addresses,
            password_to=addresses[0] if addresses else None,
            expires=expires,
            can_download=False,
        )
    )
    accepted_view(shares.email_modal(order, phi, named, metadata=metadata, expires=expires))


# --- uploads --------------------------------------------------------------------------------------

progress = st.builds(
    Progress,
    phase=st.sampled_from(list(Phase)),
    bytes_done=st.integers(0, 10**9),
    bytes_total=st.integers(0, 10**9),
    files_done=st.integers(0, 5000),
    files_total=st.integers(0, 5000),
    note=extreme_text(),
)
outcomes = st.builds(
    Outcome,
    kind=st.sampled_from(["dicom", "document"]),
    files_total=st.integers(0, 5000),
    files_sent=st.integers(0, 5000),
    files_already_there=st.integers(0, 5000),
    skipped=st.lists(extreme_text(), max_size=20).map(tuple),
    dicomdirs=st.integers(0, 3),
    duplicates=st.integers(0, 100),
    anonymized=st.booleans(),
    document_name=extreme_text(),
)
failures = st.builds(
    Failure,
    message=extreme_text(),
    code=st.sampled_from(["download.cut", "postdicom.refused", "x"]),
    retryable=st.booleans(),
)


def parts() -> st.SearchStrategy[uploads.Shown]:
    done = st.builds(
        lambda name, outcome, orders, phi, named, url: uploads.done_message(
            name,
            outcome,
            [uploads.StudyCard(order, url) for order in orders],
            phi,
            named,
            expires=date(2026, 12, 31),
            folder_path="Cases/" + name,
        ),
        extreme_text(),
        outcomes,
        lists(patient_orders, 12),
        phis,
        names,
        st.one_of(st.none(), urls),
    )
    working = st.builds(uploads.progress_message, extreme_text(), progress)
    failed = st.builds(
        lambda name, failure, final: uploads.failure_message(
            name, failure, final=final, retry_at=datetime(2026, 1, 1, tzinfo=UTC), job_id="j" * 36
        ),
        extreme_text(),
        failures,
        st.booleans(),
    )
    return st.one_of(done, working, failed)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(st.lists(parts(), min_size=1, max_size=60))
def test_a_share_of_up_to_60_files_is_one_accepted_message(shown: list[uploads.Shown]) -> None:
    _, blocks = uploads.share_message(shown)
    accepted(blocks)


@pytest.mark.parametrize("files", [49, 50, 51, 60])
def test_a_share_of_many_files_keeps_to_50_blocks(files: int) -> None:
    progress_parts = [
        uploads.progress_message(f"IM{n}.dcm", Progress(Phase.UPLOADING, 5, 10)) for n in range(files)
    ]
    _, blocks = uploads.share_message(progress_parts)
    accepted(blocks)
    assert ("more file" in json.dumps(blocks)) == (files > 49)


@FAST
@given(
    st.lists(extreme_text(), min_size=1, max_size=50),
    extreme_text(),
    st.booleans(),
    st.one_of(st.none(), extreme_text()),
)
def test_upload_prompts(names_: list[str], summary: str, anonymize: bool, folder: str | None) -> None:
    groups = [StudyGroup(f"1.2.{n}", ("CT", "SR"), "20260101", n) for n in range(len(names_))]
    what = uploads.studies_text(len(names_), groups)
    accepted(
        uploads.prompt_blocks(
            what=what, value="v" * 1900, anonymize_by_default=anonymize, folder_path=folder, problems=names_
        )
    )
    accepted(uploads.attach_prompt_blocks(names_, summary, "v" * 1900))
    accepted(uploads.problems_blocks(names_))
    accepted_view(
        uploads.anonymize_modal(
            uploads.default_replacements("tok", modality="CT", year="2026"), "m" * 500, files=len(names_)
        )
    )


@FAST
@given(st.sampled_from(list(UploadMode)), st.one_of(st.none(), extreme_text()), st.booleans())
def test_channel_settings(mode: UploadMode, path: str | None, changed: bool) -> None:
    channel_settings = ChannelSettings(
        upload_mode=mode, target_folder_uuid="f" if path else None, target_folder_path=path
    )
    accepted(uploads.channel_settings_blocks("C123", channel_settings, changed=changed))


# --- directory, connect, settings, help, home ---------------------------------------------------


nodes = model(
    DicomNode,
    dicom_node_uuid=uuids,
    name=extreme_text(),
    ae_title=extreme_text(),
    host=extreme_text(),
    port=st.one_of(st.none(), st.integers(1, 65535)),
)


@FAST
@given(
    lists(nodes, 120),
    lists(account_users, 120),
    st.dictionaries(uuids, lists(st.text(max_size=12), 5), max_size=10),
)
def test_directory(
    node_list: list[DicomNode], users: list[AccountUser], linked: dict[str, list[str]]
) -> None:
    accepted(directory.nodes_blocks(node_list))
    accepted(directory.users_blocks(users, linked, acting_user=users[0].user_uuid if users else None))


@FAST
@given(lists(account_users, 150), extreme_text())
def test_connect_views(users: list[AccountUser], problem: str) -> None:
    accepted_view(connect.keys_view("C1", problem=problem))
    accepted_view(connect.checking_view())
    account = Account(user_list=users)
    accepted_view(connect.account_view(account, "C1", acting_user=None, institution=None))


@FAST
@given(
    phis,
    st.integers(1, 365),
    st.lists(st.text(alphabet="CGD0123456789", min_size=9, max_size=11), max_size=100).map(tuple),
    st.one_of(st.none(), st.just("https://hooks.slack.com/commands/T1/1/" + "x" * 24)),
)
def test_settings_surfaces(
    phi: PhiDisplay, expiry: int, channels: tuple[str, ...], response_url: str | None
) -> None:
    chosen = WorkspaceSettings(phi_display=phi, default_share_expiry_days=expiry, allowed_channels=channels)
    accepted_view(settings_ui.settings_view(chosen, "C1", response_url=response_url))
    accepted(settings_ui.settings_saved_blocks(chosen))


# The command opens the form only for an account with an institution, with DICOM's modality codes.
@FAST
@given(
    st.lists(
        model(Institution, institution_uuid=uuids, institution_name=extreme_text()), min_size=1, max_size=120
    ),
    lists(nodes, 120),
    st.sets(
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=16), min_size=1, max_size=120
    ),
    extreme_text(),
)
def test_new_order_form(
    institutions: list[Institution], node_list: list[DicomNode], modalities: set[str], problem: str
) -> None:
    accepted_view(
        order_forms.new_order_view(institutions, node_list, modalities, "C1", default_institution=None)
    )
    accepted_view(order_forms.loading_view(problem=problem))


@dataclass(frozen=True)
class Subcommand:
    name: str
    summary: str
    usage: str
    examples: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    admin_only: bool = False


@FAST
@given(extreme_text(), lists(extreme_text(), 20), st.text(max_size=1900))
def test_upload_folder_question_and_explanations(path: str, missing: list[str], command: str) -> None:
    accepted(uploads.create_folders_blocks(path, missing or ["Cases"], command))
    for text in (uploads.NOT_ALLOWED_TEXT, uploads.DOCUMENT_ROOT_TEXT, uploads.OTHER_TYPE_TEXT, path or "x"):
        accepted(uploads.explain_blocks(text))


@FAST
@given(st.lists(st.lists(patient_orders, min_size=1, max_size=3), min_size=2, max_size=12), phis, names)
def test_link_patients_question(patients: list[list[PatientOrder]], phi: PhiDisplay, named: Names) -> None:
    accepted(order_details.link_patients_blocks(patients, phi, named, value="v" * 1900))


@FAST
@given(extreme_text(), st.text(max_size=2000))
def test_retry_message(text: str, token: str) -> None:
    accepted(blocks_ui.retry_message(text or ":x: failed", token))


def test_help_and_home() -> None:
    many = [Subcommand(f"cmd{n}", "s" * 400, "u" * 300, ("/pacs x",) * 5) for n in range(40)]
    accepted(help.help_blocks(many, unknown_topic="x" * 3000))
    for connected in (True, False):
        accepted_view(home.home_view(connected))


@FAST
@given(
    lists(account_users, 150),
    st.one_of(st.none(), st.floats(0, 1e6)),
    st.one_of(st.none(), st.integers(0, 10**6)),
)
def test_status(users: list[AccountUser], round_trip: float | None, clients: int | None) -> None:
    accepted(
        status.status_blocks(
            None, account=Account(user_list=users), round_trip_ms=round_trip, live_clients=clients
        )
    )


# Every builder above; a new one in bot/ui must join this list (and get a test above).
# --- subscriptions, the Home worklist, unfurls, Slack Connect and shortcuts --------------------

event_kinds = st.sampled_from(["new", "urgent", "assigned", "images", "something else"])


@FAST
@given(
    lists(patient_orders, 120), lists(patient_orders, 120), phis, names, st.booleans(), st.integers(0, 3650)
)
def test_home_worklist(
    assigned: list[PatientOrder],
    urgent: list[PatientOrder],
    phi: PhiDisplay,
    named: Names,
    linked: bool,
    window: int,
) -> None:
    follows = [(f"C{n:08d}", "mod:CT " + "x" * n) for n in range(60)]
    accepted_view(home.worklist_view(home.Worklist(linked, assigned, urgent, follows, window), phi, named))


@FAST
@given(
    event_kinds,
    patient_orders,
    lists(st.tuples(event_kinds, patient_orders), 80),
    phis,
    names,
    extreme_text(),
)
def test_subscription_surfaces(
    kind: str,
    order: PatientOrder,
    events: list[tuple[str, PatientOrder]],
    phi: PhiDisplay,
    named: Names,
    query: str,
) -> None:
    accepted(subscriptions.event_blocks(kind, order, phi, named, query=query))
    if events:
        accepted(subscriptions.summary_blocks(events, phi, named, query=query))
    entries = [(n, query, ["new", "urgent", "assigned", "images"]) for n in range(30)]
    accepted(subscriptions.subscriptions_blocks(entries))
    accepted(subscriptions.subscriptions_blocks([]))


@FAST
@given(patient_orders, phis, names, days, st.booleans(), extreme_text(), st.text(min_size=1, max_size=1900))
def test_unfurl_and_external_share(
    order: PatientOrder, phi: PhiDisplay, named: Names, expires: date, flag: bool, partners: str, value: str
) -> None:
    accepted(shares.unfurl_blocks(order, phi, named, expires=expires, can_download=flag, expired=not flag))
    accepted(
        shares.external_share_confirm_blocks(
            order, named, partners=partners, value=value, expires=expires, can_download=flag
        )
    )


@FAST
@given(metadata_text, st.integers(1, 10_000), patient_orders, phis, names)
def test_attach_shortcut_surfaces(
    metadata: str, files: int, order: PatientOrder, phi: PhiDisplay, named: Names
) -> None:
    accepted_view(uploads.attach_modal(metadata, files=files))
    accepted(uploads.attaching_blocks(order, phi, named, requested_by="U123"))


COVERED: list[Callable[..., Any]] = [
    uploads.create_folders_blocks,
    uploads.explain_blocks,
    order_details.link_patients_blocks,
    blocks_ui.retry_message,
    orders_ui.order_blocks,
    status.status_blocks,
    orders_ui.results_blocks,
    orders_ui.picker_blocks,
    orders_ui.order_card,
    order_details.properties_blocks,
    order_details.delete_order_blocks,
    order_details.orders_list_blocks,
    flags.flag_chooser_blocks,
    flags.flag_modal,
    assignments.assign_chooser_blocks,
    assignments.assign_modal,
    assignments.location_chooser_blocks,
    folders.folder_tree_blocks,
    folders.folder_delete_blocks,
    folders.folder_picker_blocks,
    folders.folder_link_blocks,
    folders.folder_view_blocks,
    shares.share_link_blocks,
    shares.view_link_blocks,
    shares.email_shared_blocks,
    shares.email_modal,
    uploads.share_message,
    uploads.prompt_blocks,
    uploads.attach_prompt_blocks,
    uploads.problems_blocks,
    uploads.anonymize_modal,
    uploads.channel_settings_blocks,
    directory.nodes_blocks,
    directory.users_blocks,
    connect.keys_view,
    connect.checking_view,
    connect.account_view,
    settings_ui.settings_view,
    settings_ui.settings_saved_blocks,
    order_forms.new_order_view,
    order_forms.loading_view,
    help.help_blocks,
    home.home_view,
    home.worklist_view,
    subscriptions.event_blocks,
    subscriptions.summary_blocks,
    subscriptions.subscriptions_blocks,
    shares.unfurl_blocks,
    shares.external_share_confirm_blocks,
    uploads.attach_modal,
    uploads.attaching_blocks,
]


def test_every_surface_builder_in_bot_ui_is_covered() -> None:
    import importlib
    import inspect
    import pkgutil

    import bot.ui

    found = set()
    for module_info in pkgutil.iter_modules(bot.ui.__path__):
        module = importlib.import_module(f"bot.ui.{module_info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            surface = name.endswith(("_blocks", "_view", "_modal", "_message"))
            if surface and not name.startswith("_") and function.__module__ == module.__name__:
                found.add(function)
    # Parts of a share message, tested through share_message.
    parts = {uploads.progress_message, uploads.done_message, uploads.failure_message}
    assert found - parts - set(COVERED) == set()
