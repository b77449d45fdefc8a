"""Instances grouped into studies, for prompts and summaries (no patient data involved)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.dicom.instances import DicomInstance


@dataclass(frozen=True, slots=True)
class StudyGroup:
    """The instances of one study among a set of files."""

    study_instance_uid: str
    modalities: tuple[str, ...]
    study_date: str
    instances: int


def group_studies(instances: Iterable[DicomInstance]) -> list[StudyGroup]:
    """Group instances by Study Instance UID, in the order studies first appear; repeats count once."""
    modalities: dict[str, dict[str, None]] = {}
    dates: dict[str, str] = {}
    seen: dict[str, set[str]] = {}
    for instance in instances:
        study = instance.study_instance_uid
        seen.setdefault(study, set()).add(instance.sop_instance_uid)
        if instance.modality:
            modalities.setdefault(study, {})[instance.modality] = None
        else:
            modalities.setdefault(study, {})
        if instance.study_date and not dates.get(study):
            dates[study] = instance.study_date
    return [
        StudyGroup(study, tuple(modalities[study]), dates.get(study, ""), len(seen[study])) for study in seen
    ]
