"""DICOM as it arrives in Slack: what a file is, whether it is whole, what a zip holds. pydicom only.

:mod:`sniff` classifies bytes (DICOM, zip, document, web page), :mod:`instances` checks one DICOM
file and reads its identifiers, :mod:`archives` vets and unpacks zips, :mod:`studies` groups
instances into studies. Nothing here does network I/O or knows of Slack or PostDICOM; everything
blocks, so callers on an event loop use worker threads.
"""

from bot.dicom.archives import (
    Archive,
    ArchiveLimits,
    ArchiveListing,
    ArchiveMember,
    ArchiveProblem,
    ArchiveRejected,
    LocalEntry,
    display_name,
    read_local_entry,
    stored_region,
)
from bot.dicom.instances import (
    DicomDirectory,
    DicomInstance,
    DicomRejected,
    FileRegion,
    Inspection,
    Layout,
    Problem,
    inspect_dicom,
    write_part10,
)
from bot.dicom.sniff import SNIFF_BYTES, DocumentType, Kind, Sniffed, looks_like_html, sniff
from bot.dicom.studies import StudyGroup, group_studies

__all__ = [
    "SNIFF_BYTES",
    "Archive",
    "ArchiveLimits",
    "ArchiveListing",
    "ArchiveMember",
    "ArchiveProblem",
    "ArchiveRejected",
    "DicomDirectory",
    "DicomInstance",
    "DicomRejected",
    "DocumentType",
    "FileRegion",
    "Inspection",
    "Kind",
    "Layout",
    "LocalEntry",
    "Problem",
    "Sniffed",
    "StudyGroup",
    "display_name",
    "group_studies",
    "inspect_dicom",
    "looks_like_html",
    "read_local_entry",
    "sniff",
    "stored_region",
    "write_part10",
]
