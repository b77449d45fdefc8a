"""What PostDICOM answers, as pydantic models that accept more than we know of.

PostDICOM documents few result shapes. Every model keeps unknown fields (``extra="allow"``),
reads PostDICOM's PascalCase names through aliases, and tolerates the variants seen so far.
``repr`` shows identifiers only: these objects carry patient data and end up in logs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_pascal

from bot.postdicom.errors import ProtocolError

_URL = re.compile(r"https?://[^\s\"'<>]+")


class PostDicomModel(BaseModel):
    """The project's base for PostDICOM results: PascalCase aliases, extra fields kept, PHI-free repr."""

    model_config = ConfigDict(
        alias_generator=to_pascal,
        populate_by_name=True,
        extra="allow",
        coerce_numbers_to_str=True,
    )
    _repr_fields: ClassVar[frozenset[str]] = frozenset()

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            if name is not None and _shows_in_repr(name, self._repr_fields):
                yield name, value


def _shows_in_repr(name: str, extra_names: frozenset[str]) -> bool:
    if name in _PATIENT_IDENTIFIERS:
        return False
    return name.endswith(("_uuid", "_uuid_list", "_count", "_id")) or name in extra_names


_PATIENT_IDENTIFIERS = frozenset({"patient_id", "other_patient_id"})


class Institution(PostDicomModel):
    """An institution (location) of the account."""

    institution_uuid: str
    institution_name: str = ""


class AccountUser(PostDicomModel):
    """A user of the account, with the institutions the user works in."""

    user_uuid: str
    full_name: str = ""
    user_name: str = ""
    email: str = ""
    institution_list: list[Institution] = Field(default_factory=list)


class Account(PostDicomModel):
    """The account the keys belong to, as CreateApiSession returns it."""

    user_list: list[AccountUser] = Field(default_factory=list)

    def user(self, user_uuid: str) -> AccountUser | None:
        """Return the user with this UUID (compared case-insensitively), if the account has one."""
        wanted = user_uuid.lower()
        return next((user for user in self.user_list if user.user_uuid.lower() == wanted), None)

    def institutions(self) -> list[Institution]:
        """Return every institution of every user, once each, in first-seen order."""
        seen: dict[str, Institution] = {}
        for user in self.user_list:
            for institution in user.institution_list:
                seen.setdefault(institution.institution_uuid.lower(), institution)
        return list(seen.values())


class FlagRef(PostDicomModel):
    """A flag set on an order: which group, which flag."""

    group_id: int
    flag_id: int


class PatientOrder(PostDicomModel):
    """A patient order (a study with its patient and ordering data)."""

    _repr_fields = frozenset({"order_modality", "order_status"})

    patient_order_uuid: str
    institution_uuid: str | None = Field(
        default=None, validation_alias=AliasChoices("PatientOrderInstitutionUuid", "InstitutionUuid")
    )
    patient_name: str = ""
    patient_id: str = ""
    other_patient_id: str = ""
    patient_birthdate: str = ""
    patient_sex: str = ""
    accession_number: str = ""
    order_modality: str = ""
    study_description: str = ""
    requesting_procedure_description: str = ""
    performed_datetime: str = ""
    order_status: int | str | None = None
    study_instance_uid: str = ""
    images_count: int = 0
    documents_count: int = 0
    order_size: float = 0
    connected_group_uuid: str | None = None
    flag_list: list[FlagRef] = Field(default_factory=list)
    assigned_user_uuid_list: list[str] = Field(default_factory=list)
    assigned_user_group_uuid_list: list[str] = Field(default_factory=list)
    folder_uuid_list: list[str] = Field(default_factory=list)
    institution_name: str = ""


class Folder(PostDicomModel):
    """A folder as listed among its parent's subfolders."""

    _repr_fields = frozenset({"is_shared"})

    folder_uuid: str
    folder_name: str = ""
    folder_description: str = ""
    is_shared: bool = False
    order_count: int = 0
    all_sub_order_count: int = 0
    sub_folder_count: int = 0
    all_sub_folder_count: int = 0


class FolderListing(PostDicomModel):
    """One folder's contents: its subfolders and, when asked for, its orders."""

    folder_uuid: str | None = None
    folder_name: str = ""
    sub_folder_list: list[Folder] = Field(default_factory=list)
    patient_order_list: list[PatientOrder] = Field(default_factory=list)


class Flag(PostDicomModel):
    """One flag of a flag group."""

    _repr_fields = frozenset({"flag_name"})

    flag_id: int
    flag_name: str = ""
    color: str = ""


class FlagGroup(PostDicomModel):
    """A flag group of the account's flag dictionary; an order carries at most one flag per group."""

    _repr_fields = frozenset({"group_name"})

    group_id: int
    group_name: str = ""
    flag_list: list[Flag] = Field(default_factory=list)


class UserGroup(PostDicomModel):
    """A user group (reading group) of the account."""

    _repr_fields = frozenset({"user_group_name"})

    user_group_uuid: str
    user_group_name: str = ""
    user_count: int = 0


class DicomNode(PostDicomModel):
    """A DICOM node (AE) configured for the account."""

    _repr_fields = frozenset({"ae_title"})

    dicom_node_uuid: str
    name: str = ""
    ae_title: str = ""
    host: str = ""
    port: int | None = None


class Contact(PostDicomModel):
    """An address-book contact of the account; PostDICOM's fields are not documented."""

    contact_uuid: str | None = None
    name: str = Field(default="", validation_alias=AliasChoices("Name", "FullName", "ContactName"))
    email: str = ""


class OperationResult(PostDicomModel):
    """The answer to a request that changes something: success and the server's message."""

    success: bool = True
    message: str = ""


class CreatedFolder(OperationResult):
    """The answer to CreateFolder."""

    folder_uuid: str | None = None


class CreatedOrder(OperationResult):
    """The answer to the CreateOrder calls."""

    patient_order_uuid: str | None = None
    patient_order: PatientOrder | None = None


class OrderGroupResult(OperationResult):
    """The answer to the order-group calls."""

    connected_group_uuid: str | None = None


class Link(OperationResult):
    """A viewer or share URL. The URL is a credential: it is kept out of ``repr``."""

    url: str

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> Link:
        """Take the link from ``Result``, else from the first http(s) URL anywhere in the answer."""
        result = message.get("Result")
        url = result if isinstance(result, str) and _URL.match(result) else _first_url(message)
        if url is None:
            raise ProtocolError("the answer carries no link")
        return cls.model_validate({**message, "Url": url})


def _first_url(value: object) -> str | None:
    if isinstance(value, str):
        match = _URL.search(value)
        return match.group() if match else None
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found = _first_url(item)
            if found:
                return found
    return None


def list_from(message: Mapping[str, Any], key: str) -> list[Any]:
    """Return the list under ``key``; failing that the only list in the answer; else an empty list."""
    value = message.get(key)
    if isinstance(value, list):
        return value
    lists = [item for item in message.values() if isinstance(item, list)]
    return lists[0] if len(lists) == 1 else []
