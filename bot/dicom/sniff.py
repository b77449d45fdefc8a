"""What a file is, from its first bytes: DICOM, a zip, a document PostDICOM accepts, or a web page.

Names and Slack's mimetypes are never consulted: a ``.dcm`` can be an HTML sign-in page and a
study can arrive without any extension. A DICOM dataset without preamble has no signature at all;
it sniffs as ``OTHER`` here and :func:`bot.dicom.instances.inspect_dicom` decides by parsing it.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

SNIFF_BYTES = 1024
"""How many leading bytes :func:`sniff` looks at (more are ignored)."""

_DICM = b"DICM"
_PREAMBLE = 128
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# BITMAPINFOHEADER sizes of the BMP variants in use (core, v1 to v5).
_BMP_HEADER_SIZES = frozenset({12, 40, 52, 56, 64, 108, 124})
# ISO base media brands that are MP4 (QuickTime's "qt  " is a different container).
_MP4_BRANDS = (b"iso", b"mp4", b"avc1", b"M4V", b"MSNV", b"dash", b"f4v", b"3gp")
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<!--")


class Kind(enum.StrEnum):
    """What a file's bytes say it is."""

    DICOM = "dicom"
    ZIP = "zip"
    DOCUMENT = "document"
    HTML = "html"
    OTHER = "other"


class DocumentType(enum.StrEnum):
    """The document formats PostDICOM attaches to an order."""

    PDF = "pdf"
    JPEG = "jpeg"
    PNG = "png"
    BMP = "bmp"
    MP4 = "mp4"

    @property
    def extension(self) -> str:
        """Return the file extension PostDICOM expects for this format."""
        return {"jpeg": ".jpg"}.get(self.value, "." + self.value)

    @property
    def label(self) -> str:
        """Return how a person would name the format."""
        return {"pdf": "PDF", "jpeg": "JPEG image", "png": "PNG image", "bmp": "BMP image"}.get(
            self.value, "MP4 video"
        )


@dataclass(frozen=True, slots=True)
class Sniffed:
    """The verdict on a file's first bytes."""

    kind: Kind
    document: DocumentType | None = None
    preamble_missing: bool = False


def sniff(head: bytes) -> Sniffed:
    """Classify a file by its first bytes (pass at least :data:`SNIFF_BYTES` when the file has them)."""
    head = head[:SNIFF_BYTES]
    if head[_PREAMBLE : _PREAMBLE + 4] == _DICM:
        return Sniffed(Kind.DICOM)
    if head[:4] == _DICM:
        # A Part 10 file whose 128-byte preamble was cut off; the rest is intact.
        return Sniffed(Kind.DICOM, preamble_missing=True)
    if head[:4] in _ZIP_SIGNATURES:
        return Sniffed(Kind.ZIP)
    document = _document_type(head)
    if document is not None:
        return Sniffed(Kind.DOCUMENT, document)
    if looks_like_html(head):
        return Sniffed(Kind.HTML)
    return Sniffed(Kind.OTHER)


def _document_type(head: bytes) -> DocumentType | None:
    if head.startswith(b"%PDF-"):
        return DocumentType.PDF
    if head[:3] == b"\xff\xd8\xff":
        return DocumentType.JPEG
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return DocumentType.PNG
    if head[:2] == b"BM" and len(head) >= 18 and struct.unpack_from("<I", head, 14)[0] in _BMP_HEADER_SIZES:
        return DocumentType.BMP
    if head[4:8] == b"ftyp" and head[8:12].startswith(_MP4_BRANDS):
        return DocumentType.MP4
    return None


def looks_like_html(head: bytes) -> bool:
    """Tell whether bytes open an HTML page (what Slack sends instead of a file it will not give)."""
    text = head.lstrip(b"\xef\xbb\xbf").lstrip().lower()
    if text.startswith(b"<?xml"):
        return b"<html" in text
    return text.startswith(_HTML_STARTS) and (b"<html" in text or text.startswith(b"<!doctype html"))
