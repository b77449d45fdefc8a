"""Sniffing: the bytes decide, whatever the name or Slack's mimetype says."""

from __future__ import annotations

import pytest

from bot.dicom import DocumentType, Kind, sniff
from tests.dicom.samples import CT_SMALL, LOGIN_PAGE, zip_bytes


def test_part10_dicom_is_recognised_by_its_signature() -> None:
    assert sniff(CT_SMALL.read_bytes()[:1024]).kind is Kind.DICOM


def test_a_part10_file_without_its_preamble_is_still_dicom() -> None:
    verdict = sniff(CT_SMALL.read_bytes()[128:1152])
    assert verdict.kind is Kind.DICOM
    assert verdict.preamble_missing


def test_zip_archives_are_recognised() -> None:
    assert sniff(zip_bytes([("a", b"x")])).kind is Kind.ZIP


@pytest.mark.parametrize(
    ("head", "document"),
    [
        (b"%PDF-1.7\n%\xe2\xe3", DocumentType.PDF),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", DocumentType.JPEG),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", DocumentType.PNG),
        (b"BM" + b"\x00" * 12 + b"\x28\x00\x00\x00" + b"\x00" * 20, DocumentType.BMP),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00", DocumentType.MP4),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00", DocumentType.MP4),
    ],
)
def test_documents_are_recognised_by_magic_bytes(head: bytes, document: DocumentType) -> None:
    verdict = sniff(head)
    assert verdict.kind is Kind.DOCUMENT
    assert verdict.document is document


def test_quicktime_and_look_alikes_are_not_documents() -> None:
    assert sniff(b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00").kind is Kind.OTHER
    assert sniff(b"BM but not a bitmap header at all").kind is Kind.OTHER


def test_slacks_sign_in_page_is_html() -> None:
    assert sniff(LOGIN_PAGE[:1024]).kind is Kind.HTML
    assert sniff(b"\xef\xbb\xbf  \n<html><body>hi</body></html>").kind is Kind.HTML


def test_text_that_mentions_html_is_not_a_page() -> None:
    assert sniff(b"<note>html is a markup language</note>").kind is Kind.OTHER
    assert sniff(b"plain text").kind is Kind.OTHER
    assert sniff(b"").kind is Kind.OTHER
