"""The emulator's memory: accounts and everything in them, indexed so that order searches stay fast.

Pure and synchronous: no I/O, no asyncio. Every change goes through a method here so that the
search indexes and the cached order summaries stay right. A request the emulator turns down
raises :class:`Refusal`, which the server answers as PostDICOM's ``{Success: false, Message}``.
Messages never quote patient values: clients log them.
"""

from __future__ import annotations

import bisect
import enum
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.postdicom.jsvalues import to_json
from bot.postdicom.validation import EMPTY_GUID

ROOT_FOLDER = EMPTY_GUID
NO_GROUP = EMPTY_GUID


class Refusal(Exception):
    """A request the emulator turns down; ``message`` goes back to the client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OrderStatus(enum.IntEnum):
    """``OrderStatus`` values; PostDICOM's are undocumented, so the emulator defines these."""

    SCHEDULED = 1
    IMAGES_RECEIVED = 2


def new_uuid() -> str:
    """Return a fresh random (version 4) GUID in PostDICOM's lower-case form."""
    return str(uuid.uuid4())


@dataclass(slots=True)
class Institution:
    """An institution (location) of an account."""

    uuid: str
    name: str


@dataclass(slots=True)
class User:
    """A user of an account and the institutions the user works in."""

    uuid: str
    full_name: str
    user_name: str
    email: str
    institution_uuids: list[str]


@dataclass(slots=True)
class UserGroup:
    """A user group (reading group) and its members."""

    uuid: str
    name: str
    user_uuids: list[str]


@dataclass(frozen=True, slots=True)
class Flag:
    """One flag of a flag group."""

    flag_id: int
    name: str
    color: str


@dataclass(slots=True)
class FlagGroup:
    """A group of flags; an order carries at most one flag of each group."""

    group_id: int
    name: str
    flags: list[Flag]

    def flag(self, flag_id: int) -> Flag | None:
        """Return the flag with this id, if the group has it."""
        return next((flag for flag in self.flags if flag.flag_id == flag_id), None)


@dataclass(slots=True)
class DicomNode:
    """A DICOM node (application entity) configured for an account."""

    uuid: str
    name: str
    ae_title: str
    host: str
    port: int


@dataclass(slots=True)
class Contact:
    """An address-book contact of an account."""

    uuid: str
    full_name: str
    email: str
    organization: str


@dataclass(slots=True)
class Folder:
    """A folder: its place in the tree and the orders filed in it, in the order they were added."""

    uuid: str
    name: str
    description: str
    parent_uuid: str
    children: list[str] = field(default_factory=list)
    order_uuids: dict[str, None] = field(default_factory=dict)
    shared: bool = False


@dataclass(slots=True)
class Instance:
    """A stored DICOM instance. ``data`` is None for synthetic seed instances (made up on download)."""

    sop_instance_uid: str
    series_instance_uid: str
    sop_class_uid: str
    modality: str
    size: int
    data: bytes | None = None


@dataclass(slots=True)
class Document:
    """A document (report, photo, video) attached to an order."""

    uuid: str
    file_name: str
    file_type: str
    data: bytes
    uploaded_by: str


@dataclass(slots=True)
class Order:
    """A patient order: the patient, the study and everything the account did with it."""

    uuid: str
    institution_uuid: str
    patient_name: str = ""
    patient_id: str = ""
    other_patient_id: str = ""
    birthdate: str = ""
    sex: str = ""
    accession_number: str = ""
    modality: str = ""
    study_description: str = ""
    procedure_description: str = ""
    performed: str = ""
    status: OrderStatus = OrderStatus.SCHEDULED
    study_instance_uid: str = ""
    connected_group_uuid: str = NO_GROUP
    flags: dict[int, int] = field(default_factory=dict)
    assigned_users: list[str] = field(default_factory=list)
    assigned_groups: list[str] = field(default_factory=list)
    folder_uuids: list[str] = field(default_factory=list)
    instances: dict[str, Instance] = field(default_factory=dict)
    documents: list[Document] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)
    deleted: bool = False
    summary_cache: dict[str, Any] | None = field(default=None, repr=False)
    encoded_cache: bytes | None = field(default=None, repr=False)

    def touch(self) -> None:
        """Forget the cached summary after a change."""
        self.summary_cache = None
        self.encoded_cache = None

    @property
    def performed_date(self) -> str:
        """Return the ``YYYY-MM-DD`` part of ``PerformedDatetime``."""
        return self.performed[:10]

    @property
    def size_bytes(self) -> int:
        """Count the bytes of the order's images and documents."""
        return sum(item.size for item in self.instances.values()) + sum(
            len(item.data) for item in self.documents
        )


@dataclass(slots=True)
class ApiSession:
    """An API session made by the region service (RequestType 7); its age drives the expiry fault."""

    uuid: str
    account_key: str
    created: float


@dataclass(slots=True)
class ShareRecord:
    """One share or link, as "sent": the emulator's outbox and the pages it serves."""

    token: str
    kind: str
    account_key: str
    user_uuid: str
    url: str
    order_uuids: list[str] = field(default_factory=list)
    folder_uuid: str = ""
    institution_uuid: str = ""
    email: str = ""
    password_email: str = ""
    password: str = ""
    title: str = ""
    description: str = ""
    expire_date: str = ""
    can_download: bool = False
    shared_user_uuids: list[str] = field(default_factory=list)
    shared_group_uuids: list[str] = field(default_factory=list)
    created: str = ""

    def expired(self, today: date) -> bool:
        """Tell whether the link's ``ExpireDate`` (the last valid day) has passed."""
        return bool(self.expire_date) and self.expire_date < today.isoformat()

    def as_json(self) -> dict[str, Any]:
        """Return the record for the admin API; the share password is part of what was "sent"."""
        return {
            "Token": self.token,
            "Kind": self.kind,
            "AccountKey": self.account_key,
            "UserUuid": self.user_uuid,
            "Url": self.url,
            "OrderUuidList": list(self.order_uuids),
            "FolderUuid": self.folder_uuid,
            "InstitutionUuid": self.institution_uuid,
            "Email": self.email,
            "PasswordEmail": self.password_email,
            "Password": self.password,
            "Title": self.title,
            "Description": self.description,
            "ExpireDate": self.expire_date,
            "UserCanDownloadStudies": self.can_download,
            "SharedUserUuidList": list(self.shared_user_uuids),
            "SharedUserGroupUuidList": list(self.shared_group_uuids),
            "Created": self.created,
        }


# --- searching -----------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s^]+")


def normalize_name(name: str) -> str:
    """Fold a person name for matching: lower case, ``^`` and runs of spaces become one space."""
    return _SEPARATORS.sub(" ", name.casefold()).strip()


def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(piece) for piece in pattern.split("*")), re.DOTALL)


class TextMatch:
    """A case-insensitive match of one search field: exact, or with ``*`` wildcards."""

    def __init__(self, query: str) -> None:
        self.text = query.strip().casefold()
        self.pattern = _wildcard(self.text) if "*" in self.text else None

    def matches(self, value: str) -> bool:
        """Tell whether a (case-folded) value matches."""
        if self.pattern is not None:
            return self.pattern.fullmatch(value) is not None
        return value == self.text


class NameMatch:
    """Patient-name matching: case-insensitive, ``^``-aware, ``*`` wildcards.

    Without a wildcard every word of the query must begin a word of the name, in any order, so
    that "john doe", "DOE^JOHN", "doe" and "jo" all find "Doe^John". With one, the whole folded
    name must match the pattern.
    """

    def __init__(self, query: str) -> None:
        folded = normalize_name(query)
        self.pattern = _wildcard(folded) if "*" in folded else None
        self.words = folded.split()
        # The literal text before the first "*" begins the name's first word.
        leading = folded.split("*", 1)[0].split()
        self.literal_start = leading[0] if leading else ""

    def matches(self, folded_name: str) -> bool:
        """Tell whether a name folded by :func:`normalize_name` matches."""
        if self.pattern is not None:
            return self.pattern.fullmatch(folded_name) is not None
        parts = folded_name.split()
        return all(any(part.startswith(word) for part in parts) for word in self.words)


@dataclass(slots=True)
class OrderQuery:
    """What GetPatientOrderList* asked for, already validated; empty means "any"."""

    institution_uuids: set[str]
    patient_name: str = ""
    accession_number: str = ""
    patient_id: str = ""
    other_patient_id: str = ""
    modalities: set[str] = field(default_factory=set)
    start_date: str = ""
    end_date: str = ""
    start_birthdate: str = ""
    end_birthdate: str = ""
    folder_uuid: str = ""


@dataclass(slots=True)
class _Keys:
    """The folded values an order is indexed under."""

    institution: str
    modality: str
    patient_id: str
    accession: str
    performed: str
    name: str
    name_words: frozenset[str]
    other_id: str
    birthdate: str


class OrderIndex:
    """Indexes over an account's live orders (not those in the trash)."""

    def __init__(self) -> None:
        self.keys: dict[str, _Keys] = {}
        self.by_institution: dict[str, set[str]] = {}
        self.by_modality: dict[str, set[str]] = {}
        self.by_patient_id: dict[str, set[str]] = {}
        self.by_accession: dict[str, set[str]] = {}
        self.by_name_word: dict[str, set[str]] = {}
        # The distinct name words, sorted, so that a prefix finds its words by bisection.
        self.name_words: list[str] = []
        self.by_study: dict[str, str] = {}
        # (PerformedDatetime, uuid), ascending: searches walk it backwards, newest first.
        self.by_performed: list[tuple[str, str]] = []

    def __len__(self) -> int:
        return len(self.keys)

    def _indexes(self, keys: _Keys) -> Iterator[tuple[dict[str, set[str]], str]]:
        yield self.by_institution, keys.institution
        yield self.by_modality, keys.modality
        yield self.by_patient_id, keys.patient_id
        yield self.by_accession, keys.accession
        for word in keys.name_words:
            yield self.by_name_word, word

    def add(self, order: Order) -> None:
        """Index a live order."""
        name = normalize_name(order.patient_name)
        keys = _Keys(
            order.institution_uuid,
            order.modality.upper(),
            order.patient_id.casefold(),
            order.accession_number.casefold(),
            order.performed,
            name,
            frozenset(name.split()),
            order.other_patient_id.casefold(),
            order.birthdate,
        )
        self.keys[order.uuid] = keys
        for index, key in self._indexes(keys):
            members = index.get(key)
            if members is None:
                members = index[key] = set()
                if index is self.by_name_word:
                    bisect.insort(self.name_words, key)
            members.add(order.uuid)
        if order.study_instance_uid:
            self.by_study[order.study_instance_uid] = order.uuid
        bisect.insort(self.by_performed, (keys.performed, order.uuid))

    def remove(self, order: Order) -> None:
        """Drop an order from every index."""
        keys = self.keys.pop(order.uuid, None)
        if keys is None:
            return
        for index, key in self._indexes(keys):
            members = index.get(key)
            if members is not None:
                members.discard(order.uuid)
                if not members:
                    del index[key]
                    if index is self.by_name_word:
                        self.name_words.remove(key)
        if self.by_study.get(order.study_instance_uid) == order.uuid:
            del self.by_study[order.study_instance_uid]
        position = bisect.bisect_left(self.by_performed, (keys.performed, order.uuid))
        if position < len(self.by_performed) and self.by_performed[position] == (keys.performed, order.uuid):
            del self.by_performed[position]

    def _with_name_prefix(self, prefix: str) -> set[str]:
        members: set[str] = set()
        position = bisect.bisect_left(self.name_words, prefix)
        while position < len(self.name_words) and self.name_words[position].startswith(prefix):
            members |= self.by_name_word[self.name_words[position]]
            position += 1
        return members

    def search(self, query: OrderQuery, limit: int) -> list[str]:
        """Return the uuids of matching orders, newest first, at most ``limit`` of them."""
        narrowing: list[set[str]] = [_union(self.by_institution, query.institution_uuids)]
        if query.modalities:
            narrowing.append(_union(self.by_modality, query.modalities))
        name = NameMatch(query.patient_name) if query.patient_name.strip() else None
        if name is not None and name.pattern is None:
            narrowing.extend(self._with_name_prefix(word) for word in name.words)
            name = None
        elif name is not None and name.literal_start:
            # "mor*^a*" can only match names whose first word begins "mor": narrow, then match.
            narrowing.append(self._with_name_prefix(name.literal_start))
        patient_id = TextMatch(query.patient_id) if query.patient_id else None
        if patient_id is not None and patient_id.pattern is None:
            narrowing.append(self.by_patient_id.get(patient_id.text, set()))
            patient_id = None
        accession = TextMatch(query.accession_number) if query.accession_number else None
        if accession is not None and accession.pattern is None:
            narrowing.append(self.by_accession.get(accession.text, set()))
            accession = None
        narrowing.sort(key=len)
        candidates = set(narrowing[0])
        for members in narrowing[1:]:
            candidates &= members
            if not candidates:
                return []
        other_id = TextMatch(query.other_patient_id) if query.other_patient_id else None
        performed_in = _Range(query.start_date, query.end_date)
        born_in = _Range(query.start_birthdate, query.end_birthdate)

        def wanted(order_uuid: str) -> bool:
            keys = self.keys[order_uuid]
            return (
                performed_in.holds(keys.performed[:10])
                and born_in.holds(keys.birthdate)
                and (name is None or name.matches(keys.name))
                and (patient_id is None or patient_id.matches(keys.patient_id))
                and (accession is None or accession.matches(keys.accession))
                and (other_id is None or other_id.matches(keys.other_id))
            )

        found: list[str] = []
        if len(candidates) * 4 < len(self.by_performed):
            ordered: Iterable[str] = sorted(
                candidates, key=lambda item: (self.keys[item].performed, item), reverse=True
            )
        else:
            ordered = (item for _, item in reversed(self.by_performed) if item in candidates)
        for order_uuid in ordered:
            if wanted(order_uuid):
                found.append(order_uuid)
                if len(found) >= limit:
                    break
        return found


@dataclass(frozen=True, slots=True)
class _Range:
    """An inclusive range of ``YYYY-MM-DD`` dates; either end may be open, both open means any."""

    start: str
    end: str

    def holds(self, day: str) -> bool:
        """Tell whether a day lies in the range."""
        if not self.start and not self.end:
            return True
        # A missing date is outside every range that was asked for.
        return bool(day) and (not self.start or day >= self.start) and (not self.end or day <= self.end)


def _union(index: dict[str, set[str]], keys: Iterable[str]) -> set[str]:
    members: set[str] = set()
    for key in keys:
        members |= index.get(key, set())
    return members


# --- accounts ------------------------------------------------------------------------------------


class Account:
    """One PostDICOM account: its keys, people, dictionaries, folders and orders."""

    def __init__(self, account_key: str, api_key: str, name: str) -> None:
        self.key = account_key.lower()
        self.api_key = api_key.lower()
        self.name = name
        self.institutions: dict[str, Institution] = {}
        self.users: dict[str, User] = {}
        self.user_groups: dict[str, UserGroup] = {}
        self.flag_groups: dict[int, FlagGroup] = {}
        self.dicom_nodes: dict[str, DicomNode] = {}
        self.contacts: list[Contact] = []
        self.folders: dict[str, Folder] = {}
        self.root_folders: list[str] = []
        self.orders: dict[str, Order] = {}
        self.index = OrderIndex()

    # people and dictionaries

    def add_institution(self, institution: Institution) -> Institution:
        """Add an institution."""
        self.institutions[institution.uuid] = institution
        return institution

    def add_user(self, user: User) -> User:
        """Add a user."""
        self.users[user.uuid] = user
        return user

    def add_user_group(self, group: UserGroup) -> UserGroup:
        """Add a user group."""
        self.user_groups[group.uuid] = group
        return group

    def add_flag_group(self, group: FlagGroup) -> FlagGroup:
        """Add a flag group to the flag dictionary."""
        self.flag_groups[group.group_id] = group
        return group

    def add_dicom_node(self, node: DicomNode) -> DicomNode:
        """Add a DICOM node."""
        self.dicom_nodes[node.uuid] = node
        return node

    def user(self, user_uuid: str) -> User:
        """Return the user or refuse."""
        user = self.users.get(user_uuid)
        if user is None:
            raise Refusal("User not found.")
        return user

    def institution_for(self, user: User, institution_uuid: str) -> Institution:
        """Return an institution the user works in, or refuse."""
        institution = self.institutions.get(institution_uuid)
        if institution is None:
            raise Refusal("Institution not found.")
        if institution_uuid not in user.institution_uuids:
            raise Refusal("The user has no access to this institution.")
        return institution

    # orders

    def order_for(self, user: User, order_uuid: str, institution_uuid: str | None = None) -> Order:
        """Return a live order the user may see (and, if given, of that institution), or refuse."""
        order = self.orders.get(order_uuid)
        if order is None or order.deleted or order.institution_uuid not in user.institution_uuids:
            raise Refusal("Patient order not found.")
        if institution_uuid is not None and order.institution_uuid != institution_uuid:
            raise Refusal("Patient order not found in this institution.")
        return order

    def add_order(self, order: Order) -> Order:
        """Store a new live order."""
        if order.uuid in self.orders:
            raise ValueError("order uuid already used")
        self.orders[order.uuid] = order
        self.index.add(order)
        return order

    def update_order(self, order: Order, change: Callable[[Order], None]) -> Order:
        """Apply a change to an order and keep the indexes and its summary right."""
        self.index.remove(order)
        try:
            change(order)
        finally:
            order.touch()
            if not order.deleted:
                self.index.add(order)
        return order

    def trash_order(self, order: Order) -> None:
        """Move an order to the trash: it disappears from searches, folders and its order group."""

        def trash(item: Order) -> None:
            item.deleted = True
            for folder_uuid in item.folder_uuids:
                folder = self.folders.get(folder_uuid)
                if folder is not None:
                    folder.order_uuids.pop(item.uuid, None)
            item.folder_uuids.clear()
            item.connected_group_uuid = NO_GROUP

        self.update_order(order, trash)

    def order_by_study(self, study_instance_uid: str) -> Order | None:
        """Return the live order holding a study."""
        order_uuid = self.index.by_study.get(study_instance_uid)
        return self.orders[order_uuid] if order_uuid is not None else None

    def live_orders(self) -> Iterator[Order]:
        """Yield every order not in the trash."""
        return (order for order in self.orders.values() if not order.deleted)

    def search(self, query: OrderQuery, limit: int) -> list[Order]:
        """Search live orders, newest first."""
        if query.folder_uuid:
            folder = self.folder(query.folder_uuid)
            orders = [self.orders[item] for item in folder.order_uuids]
            visible = [order for order in orders if order.institution_uuid in query.institution_uuids]
            return sorted(visible, key=lambda order: (order.performed, order.uuid), reverse=True)[:limit]
        return [self.orders[item] for item in self.index.search(query, limit)]

    def summary(self, order: Order) -> dict[str, Any]:
        """Return the order as search results carry it; cached until the order changes."""
        if order.summary_cache is None:
            institution = self.institutions.get(order.institution_uuid)
            order.summary_cache = {
                "PatientOrderUuid": order.uuid,
                "PatientOrderInstitutionUuid": order.institution_uuid,
                "PatientName": order.patient_name,
                "PatientId": order.patient_id,
                "OtherPatientId": order.other_patient_id,
                "PatientBirthdate": order.birthdate,
                "PatientSex": order.sex,
                "AccessionNumber": order.accession_number,
                "OrderModality": order.modality,
                "StudyDescription": order.study_description,
                "RequestingProcedureDescription": order.procedure_description,
                "PerformedDatetime": order.performed,
                "OrderStatus": int(order.status),
                "StudyInstanceUid": order.study_instance_uid,
                "ImagesCount": len(order.instances),
                "DocumentsCount": len(order.documents),
                "OrderSize": round(order.size_bytes / 1024, 1),
                "ConnectedGroupUuid": order.connected_group_uuid,
                "FlagList": [
                    {"GroupId": group, "FlagId": flag} for group, flag in sorted(order.flags.items())
                ],
                "AssignedUserUuidList": list(order.assigned_users),
                "AssignedUserGroupUuidList": list(order.assigned_groups),
                "FolderUuidList": list(order.folder_uuids),
                "InstitutionName": institution.name if institution else "",
            }
        return order.summary_cache

    def summary_json(self, order: Order) -> bytes:
        """Return the summary as JSON text; cached, because searches send hundreds at a time."""
        if order.encoded_cache is None:
            order.encoded_cache = to_json(self.summary(order))
        return order.encoded_cache

    def properties(self, order: Order) -> dict[str, Any]:
        """Return the order with its details, series and documents, as GetPatientOrderProperties does."""
        series: dict[str, dict[str, Any]] = {}
        for instance in order.instances.values():
            entry = series.setdefault(
                instance.series_instance_uid,
                {"SeriesInstanceUid": instance.series_instance_uid, "Modality": instance.modality},
            )
            entry["ImagesCount"] = entry.get("ImagesCount", 0) + 1
        return {
            **self.summary(order),
            **order.details,
            "SeriesList": list(series.values()),
            "DocumentList": [
                {
                    "DocumentUuid": document.uuid,
                    "FileName": document.file_name,
                    "FileType": document.file_type,
                    "FileSize": len(document.data),
                }
                for document in order.documents
            ],
        }

    # folders

    def folder(self, folder_uuid: str) -> Folder:
        """Return a folder or refuse."""
        folder = self.folders.get(folder_uuid)
        if folder is None:
            raise Refusal("Folder not found.")
        return folder

    def children_of(self, parent_uuid: str) -> list[str]:
        """Return the uuids of a folder's subfolders (the root's when ``parent_uuid`` is the root)."""
        return self.root_folders if parent_uuid == ROOT_FOLDER else self.folder(parent_uuid).children

    def child_named(self, parent_uuid: str, name: str) -> Folder | None:
        """Return the subfolder of that name (case-insensitive), if there is one."""
        folded = name.casefold()
        for child_uuid in self.children_of(parent_uuid):
            child = self.folders[child_uuid]
            if child.name.casefold() == folded:
                return child
        return None

    def create_folder_path(
        self, parent_uuid: str, path: str, description: str, folder_uuid: str | None = None
    ) -> Folder:
        """Create ``a/b/c`` under a parent, reusing folders on the way; refuse if the last one exists."""
        names = [part.strip() for part in path.split("/")]
        if not path.strip() or any(not part for part in names):
            raise Refusal("Folder name is required.")
        self.children_of(parent_uuid)
        current = parent_uuid
        for position, name in enumerate(names):
            last = position == len(names) - 1
            existing = self.child_named(current, name)
            if existing is not None:
                if last:
                    raise Refusal("A folder with this name already exists here.")
                current = existing.uuid
                continue
            created = Folder(
                folder_uuid if last and folder_uuid else new_uuid(),
                name,
                description if last else "",
                current,
            )
            self.folders[created.uuid] = created
            self.children_of(current).append(created.uuid)
            current = created.uuid
        return self.folders[current]

    def subtree(self, folder_uuid: str) -> Iterator[Folder]:
        """Yield a folder and every folder below it."""
        pending = [folder_uuid]
        while pending:
            folder = self.folders[pending.pop()]
            yield folder
            pending.extend(folder.children)

    def delete_folder(self, folder_uuid: str) -> None:
        """Delete a folder and its subfolders; the orders in them stay, outside those folders."""
        folder = self.folder(folder_uuid)
        self.children_of(folder.parent_uuid).remove(folder_uuid)
        for gone in list(self.subtree(folder_uuid)):
            for order_uuid in gone.order_uuids:
                order = self.orders[order_uuid]
                order.folder_uuids.remove(gone.uuid)
                order.touch()
            del self.folders[gone.uuid]

    def rename_folder(self, folder: Folder, name: str | None, description: str | None) -> None:
        """Rename a folder or change its description."""
        if name is not None:
            if not name.strip() or "/" in name:
                raise Refusal("Folder name is not valid.")
            sibling = self.child_named(folder.parent_uuid, name)
            if sibling is not None and sibling is not folder:
                raise Refusal("A folder with this name already exists here.")
            folder.name = name.strip()
        if description is not None:
            folder.description = description

    def file_in_folder(self, order: Order, folder: Folder) -> None:
        """Put an order into a folder (nothing happens if it is there already)."""
        if order.uuid not in folder.order_uuids:
            folder.order_uuids[order.uuid] = None
            order.folder_uuids.append(folder.uuid)
            order.touch()

    def take_out_of_folder(self, order: Order, folder: Folder) -> None:
        """Take an order out of a folder (nothing happens if it is not there)."""
        if order.uuid in folder.order_uuids:
            del folder.order_uuids[order.uuid]
            order.folder_uuids.remove(folder.uuid)
            order.touch()

    def folder_entry(self, folder: Folder) -> dict[str, Any]:
        """Return a folder as SearchFolder lists subfolders."""
        below = list(self.subtree(folder.uuid))
        every_order: set[str] = set()
        for item in below:
            every_order.update(item.order_uuids)
        return {
            "FolderUuid": folder.uuid,
            "FolderName": folder.name,
            "FolderDescription": folder.description,
            "IsShared": folder.shared,
            "OrderCount": len(folder.order_uuids),
            "AllSubOrderCount": len(every_order),
            "SubFolderCount": len(folder.children),
            "AllSubFolderCount": len(below) - 1,
        }

    def order_groups(self) -> dict[str, list[Order]]:
        """Return the live orders of each order group."""
        groups: dict[str, list[Order]] = {}
        for order in self.live_orders():
            if order.connected_group_uuid != NO_GROUP:
                groups.setdefault(order.connected_group_uuid, []).append(order)
        return groups

    def account_json(self) -> dict[str, Any]:
        """Return ``Account`` as CreateApiSession carries it."""
        return {
            "AccountKey": self.key,
            "AccountName": self.name,
            "UserList": [
                {
                    "UserUuid": user.uuid,
                    "FullName": user.full_name,
                    "UserName": user.user_name,
                    "Email": user.email,
                    "InstitutionList": [
                        {"InstitutionUuid": item, "InstitutionName": self.institutions[item].name}
                        for item in user.institution_uuids
                    ],
                }
                for user in self.users.values()
            ],
        }

    def counts(self) -> tuple[int, int, int]:
        """Count live orders, their instances and their documents."""
        orders = instances = documents = 0
        for order in self.live_orders():
            orders += 1
            instances += len(order.instances)
            documents += len(order.documents)
        return orders, instances, documents


# --- the whole emulator --------------------------------------------------------------------------


class EmulatorState:
    """Every account, API session and share link the emulator knows."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.accounts: dict[str, Account] = {}
        self.sessions: dict[str, ApiSession] = {}
        self.shares: dict[str, ShareRecord] = {}
        self.clock: Callable[[], datetime] = clock or datetime.now

    def add_account(self, account: Account) -> Account:
        """Register an account under its account key."""
        self.accounts[account.key] = account
        return account

    def account(self, account_key: str) -> Account | None:
        """Return the account with this key (case-insensitive)."""
        return self.accounts.get(account_key.strip().lower())

    def account_for_api_key(self, api_key: str) -> Account | None:
        """Return the account an API key belongs to."""
        wanted = api_key.strip().lower()
        return next((account for account in self.accounts.values() if account.api_key == wanted), None)

    def open_session(self, account: Account) -> ApiSession:
        """Create an API session, as the region service's RequestType 7 does."""
        session = ApiSession(new_uuid(), account.key, time.monotonic())
        self.sessions[session.uuid] = session
        return session

    def today(self) -> date:
        """Return today's date on the emulator's clock."""
        return self.clock().date()

    def record_share(self, record: ShareRecord) -> ShareRecord:
        """Keep a share so that its page is served and tests can see what was "sent"."""
        record.created = self.clock().isoformat(timespec="seconds")
        self.shares[record.token] = record
        return record

    def shares_of(self, account_key: str | None = None) -> list[ShareRecord]:
        """Return the recorded shares, oldest first, of one account or of all."""
        return [item for item in self.shares.values() if account_key in (None, item.account_key)]

    def replace_with(self, other: EmulatorState) -> None:
        """Take over another state's contents in place, so that references to this object stay valid."""
        self.accounts = other.accounts
        self.sessions = other.sessions
        self.shares = other.shares

    def counts(self) -> tuple[int, int, int]:
        """Count live orders, instances and documents over every account."""
        totals = [account.counts() for account in self.accounts.values()]
        return (
            sum(item[0] for item in totals),
            sum(item[1] for item in totals),
            sum(item[2] for item in totals),
        )


def share_token() -> str:
    """Return an unguessable token for a share or view URL."""
    return secrets.token_urlsafe(18)


def share_password() -> str:
    """Return a password for an e-mail share, as PostDICOM mails one to the recipient."""
    return "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8))
