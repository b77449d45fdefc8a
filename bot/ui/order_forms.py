"""The ``/pacs order new`` modal: CreateOrderWithJSON's fields, and reading them back.

Only fields that PostDICOM's library passes on are offered (it drops the rest of the documented
keys silently). Required fields carry a star; modality, institution, sex and DICOM node are
selects, dates are date pickers. Reading a submission is pure and says, per field, what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    DatePickerElement,
    InputBlock,
    PlainTextInputElement,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot.postdicom import DicomNode, Institution
from bot.ui.blocks import context, option, section, truncate
from bot.ui.connect import metadata

NEW_ORDER_CALLBACK = "pacs.order.new"
VALUE = "value"
INSTITUTION, PATIENT_NAME, PATIENT_ID, OTHER_ID = "institution", "patient_name", "patient_id", "other_id"
BIRTH_DATE, SEX, MODALITY, ACCESSION = "birth_date", "sex", "modality", "accession"
STUDY_DATE, STUDY_TIME, STUDY_DESCRIPTION = "study_date", "study_time", "study_description"
PROCEDURE_DESCRIPTION, PROCEDURE_ID = "procedure_description", "procedure_id"
REFERRING, REQUESTING, NODE = "referring", "requesting", "node"
MAX_ACCESSION = 16
MAX_TEXT = 64
MAX_NAME = 320
COMMON_MODALITIES = ("CT", "MR", "US", "CR", "DX", "MG", "NM", "PT", "XA", "RF")
_SEXES = (("F", "Female"), ("M", "Male"), ("O", "Other"))
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")

# Block, the library's flat key, label, and the longest value PostDICOM's DICOM fields take.
_TEXT_FIELDS: tuple[tuple[str, str, str, int], ...] = (
    (OTHER_ID, "OtherPatientId", "Other patient ID", MAX_TEXT),
    (ACCESSION, "OrderAccessionNumber", "Accession number", MAX_ACCESSION),
    (STUDY_DESCRIPTION, "StudyDescription", "Study description", MAX_TEXT),
    (PROCEDURE_DESCRIPTION, "RequestingProcedureDescription", "Requested procedure", MAX_TEXT),
    (PROCEDURE_ID, "RequestedProcedureId", "Requested procedure ID", 16),
    (REFERRING, "ReferringPhysiciansName", "Referring physician", MAX_NAME),
    (REQUESTING, "RequestingPhysician", "Requesting physician", MAX_NAME),
)


def modality_order(modalities: Collection[str]) -> list[str]:
    """Put the common modalities first, then the rest alphabetically."""
    common = [item for item in COMMON_MODALITIES if item in modalities]
    return common + sorted(set(modalities) - set(common))


def loading_view(*, problem: str = "") -> dict[str, Any]:
    """Build the interim modal shown while the form's choices load (or why they could not)."""
    text = (
        f":warning: {problem}"
        if problem
        else ":hourglass_flowing_sand: Loading institutions and DICOM nodes…"
    )
    return View(type="modal", title="New order", close="Close", blocks=[section(text)]).to_dict()


def _text_input(block_id: str, label: str, max_length: int, *, optional: bool, hint: str = "") -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label if optional else f"{label} *",
        optional=optional,
        hint=hint or None,
        element=PlainTextInputElement(action_id=VALUE, max_length=max_length),
    )


def new_order_view(
    institutions: Sequence[Institution],
    nodes: Sequence[DicomNode],
    modalities: Collection[str],
    channel_id: str | None,
    *,
    default_institution: str | None,
) -> dict[str, Any]:
    """Build the modal with CreateOrderWithJSON's fields."""
    institution_options = [
        option(truncate(item.institution_name or item.institution_uuid, 75), item.institution_uuid.lower())
        for item in institutions[:100]
    ]
    initial_institution = next(
        (choice for choice in institution_options if choice.value == (default_institution or "").lower()),
        institution_options[0] if institution_options else None,
    )
    blocks: list[Any] = [
        context("Fields marked * are required. The order is created as scheduled, waiting for images."),
        InputBlock(
            block_id=INSTITUTION,
            label="Institution *",
            element=StaticSelectElement(
                action_id=VALUE, options=institution_options, initial_option=initial_institution
            ),
        ),
        _text_input(
            PATIENT_NAME, "Patient name", MAX_NAME, optional=False, hint="Family^Given, or Family, Given"
        ),
        _text_input(PATIENT_ID, "Patient ID", MAX_TEXT, optional=False),
        _text_input(OTHER_ID, "Other patient ID", MAX_TEXT, optional=True),
        InputBlock(
            block_id=BIRTH_DATE,
            label="Birth date",
            optional=True,
            element=DatePickerElement(action_id=VALUE, placeholder="Pick the birth date"),
        ),
        InputBlock(
            block_id=SEX,
            label="Sex",
            optional=True,
            element=StaticSelectElement(
                action_id=VALUE,
                placeholder="Choose",
                options=[option(label, value) for value, label in _SEXES],
            ),
        ),
        InputBlock(
            block_id=MODALITY,
            label="Modality *",
            element=StaticSelectElement(
                action_id=VALUE,
                placeholder="Choose a modality",
                options=[option(item, item) for item in modality_order(modalities)[:100]],
            ),
        ),
        _text_input(ACCESSION, "Accession number", MAX_ACCESSION, optional=True, hint="Up to 16 characters"),
        InputBlock(
            block_id=STUDY_DATE,
            label="Study date",
            optional=True,
            element=DatePickerElement(action_id=VALUE, placeholder="Pick the study date"),
        ),
        InputBlock(
            block_id=STUDY_TIME,
            label="Study time",
            optional=True,
            element=TimePickerElement(action_id=VALUE, placeholder="Pick the time"),
        ),
    ]
    blocks += [
        _text_input(block_id, label, limit, optional=True)
        for block_id, _, label, limit in _TEXT_FIELDS
        if block_id not in (OTHER_ID, ACCESSION)
    ]
    if nodes:
        blocks.append(
            InputBlock(
                block_id=NODE,
                label="Scheduled on DICOM node",
                optional=True,
                element=StaticSelectElement(
                    action_id=VALUE,
                    placeholder="Choose a node",
                    options=[
                        option(
                            truncate(f"{node.name or node.ae_title} ({node.ae_title})", 75),
                            node.dicom_node_uuid.lower(),
                        )
                        for node in nodes[:100]
                    ],
                ),
            )
        )
    return View(
        type="modal",
        callback_id=NEW_ORDER_CALLBACK,
        title="New order",
        submit="Create order",
        close="Cancel",
        private_metadata=metadata(channel_id),
        blocks=blocks,
    ).to_dict()


@dataclass(frozen=True, slots=True)
class NewOrder:
    """A valid submission: the institution and CreateOrderWithJSON's flat fields."""

    institution_uuid: str
    fields: dict[str, str]


def _value(values: Mapping[str, Any], block_id: str) -> str:
    element = (values.get(block_id) or {}).get(VALUE) or {}
    for key in ("selected_date", "selected_time"):
        if key in element:
            return str(element[key] or "")
    if "selected_option" in element:
        return str((element["selected_option"] or {}).get("value") or "")
    return str(element.get("value") or "").strip()


def dicom_person_name(typed: str) -> str:
    """Turn 'Doe, John' into 'Doe^John'; keep a name that already uses '^' or has no comma."""
    if "^" in typed or "," not in typed:
        return typed.strip()
    family, _, given = typed.partition(",")
    return f"{family.strip()}^{given.strip()}"


def read_new_order(
    values: Mapping[str, Any],
    *,
    today: date,
    modalities: Collection[str],
    institutions: Collection[str],
    nodes: Collection[str],
) -> tuple[NewOrder | None, dict[str, str]]:
    """Read a submitted form into an order to create, or into errors by block."""
    errors: dict[str, str] = {}
    institution = _value(values, INSTITUTION).lower()
    if institution not in institutions:
        errors[INSTITUTION] = "Choose the institution the order belongs to."
    name = dicom_person_name(_value(values, PATIENT_NAME))
    if not name.replace("^", "").strip():
        errors[PATIENT_NAME] = "The patient's name is required."
    patient = _value(values, PATIENT_ID)
    if not patient:
        errors[PATIENT_ID] = "The patient ID is required."
    modality = _value(values, MODALITY).upper()
    if modality not in modalities:
        errors[MODALITY] = "Choose the modality."
    fields = {"PatientName": name, "PatientID": patient, "OrderModality": modality}
    for block_id, key, label, limit in _TEXT_FIELDS:
        value = _value(values, block_id)
        if len(value) > limit:
            errors[block_id] = f"{label} takes at most {limit} characters."
        fields[key] = value
    if len(name) > MAX_NAME or len(patient) > MAX_TEXT:
        errors.setdefault(
            PATIENT_NAME if len(name) > MAX_NAME else PATIENT_ID, "That is too long for PostDICOM."
        )
    born = _value(values, BIRTH_DATE)
    if born:
        try:
            if date.fromisoformat(born) > today:
                errors[BIRTH_DATE] = "The birth date is in the future."
        except ValueError:
            errors[BIRTH_DATE] = "Pick the birth date from the calendar."
    fields["PatientsBirthDate"] = born
    sex = _value(values, SEX).upper()
    if sex and sex not in {value for value, _ in _SEXES}:
        errors[SEX] = "Choose F, M or O."
    fields["PatientSex"] = sex
    day, time = _value(values, STUDY_DATE), _value(values, STUDY_TIME)
    if time and not _TIME.fullmatch(time):
        errors[STUDY_TIME] = "Pick the time from the list."
    if time and not day:
        errors[STUDY_DATE] = "Pick the study date too, or clear the time."
    if day:
        try:
            date.fromisoformat(day)
        except ValueError:
            errors[STUDY_DATE] = "Pick the study date from the calendar."
    fields["PerformedDatetime"] = f"{day} {time or '00:00'}" if day else ""
    node = _value(values, NODE).lower()
    if node and node not in nodes:
        errors[NODE] = "Choose one of the account's DICOM nodes."
    fields["ScheduledEquipmentUuid"] = node
    if errors:
        return None, errors
    return NewOrder(institution, {key: value for key, value in fields.items() if value}), {}
