"""The emulator's state on its own: the order index agrees with a plain scan, whatever happens to it."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sandbox.postdicom.dicom import NotDicom, dicom_date, dicom_time, read_header
from bot.sandbox.postdicom.state import (
    NameMatch,
    Order,
    OrderIndex,
    OrderQuery,
    TextMatch,
    normalize_name,
)

INSTITUTIONS = ("i-main", "i-branch")
WORDS = ("doe", "dolores", "john", "jo", "müller", "mu", "ann", "anne")

names = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map("^".join)
days = st.dates(min_value=date(1990, 1, 1), max_value=date(1992, 12, 31))


@st.composite
def orders(draw: st.DrawFn, number: int) -> Order:
    return Order(
        uuid=f"order-{number:04d}",
        institution_uuid=draw(st.sampled_from(INSTITUTIONS)),
        patient_name=draw(names),
        patient_id=draw(st.sampled_from(("p1", "p2", "P3", "x9"))),
        other_patient_id=draw(st.sampled_from(("", "o1", "o22"))),
        birthdate=draw(st.one_of(st.just(""), days.map(str))),
        accession_number=draw(st.sampled_from(("a1", "A2", "b3"))),
        modality=draw(st.sampled_from(("CT", "MR", "us"))),
        performed=f"{draw(days)} {draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}",
    )


@st.composite
def queries(draw: st.DrawFn) -> OrderQuery:
    optional_day = st.one_of(st.just(""), days.map(str))
    return OrderQuery(
        institution_uuids=set(draw(st.lists(st.sampled_from(INSTITUTIONS), min_size=1, max_size=2))),
        patient_name=draw(
            st.one_of(st.just(""), names, names.map(lambda name: name[:2] + "*"), st.just("*ne*"))
        ),
        accession_number=draw(st.sampled_from(("", "a1", "a*", "B3"))),
        patient_id=draw(st.sampled_from(("", "p1", "p*", "P3"))),
        other_patient_id=draw(st.sampled_from(("", "o1", "o*"))),
        modalities=set(draw(st.lists(st.sampled_from(("CT", "MR", "US")), max_size=2))),
        start_date=draw(optional_day),
        end_date=draw(optional_day),
        start_birthdate=draw(optional_day),
        end_birthdate=draw(optional_day),
    )


def plain_scan(live: list[Order], query: OrderQuery) -> list[str]:
    """Filter by reading every order, the slow obvious way."""

    def in_range(day: str, start: str, end: str) -> bool:
        if not start and not end:
            return True
        return bool(day) and (not start or day >= start) and (not end or day <= end)

    def text(query_text: str, value: str) -> bool:
        return not query_text or TextMatch(query_text).matches(value.casefold())

    found = [
        order
        for order in live
        if order.institution_uuid in query.institution_uuids
        and (not query.modalities or order.modality.upper() in query.modalities)
        and (
            not query.patient_name.strip()
            or NameMatch(query.patient_name).matches(normalize_name(order.patient_name))
        )
        and text(query.accession_number, order.accession_number)
        and text(query.patient_id, order.patient_id)
        and text(query.other_patient_id, order.other_patient_id)
        and in_range(order.performed[:10], query.start_date, query.end_date)
        and in_range(order.birthdate, query.start_birthdate, query.end_birthdate)
    ]
    found.sort(key=lambda order: (order.performed, order.uuid), reverse=True)
    return [order.uuid for order in found]


@settings(max_examples=80, deadline=None)
@given(data=st.data(), count=st.integers(0, 40), limit=st.integers(1, 50))
def test_the_index_finds_what_a_plain_scan_finds(data: st.DataObject, count: int, limit: int) -> None:
    index = OrderIndex()
    live = [data.draw(orders(number)) for number in range(count)]
    for order in live:
        index.add(order)
    removed = data.draw(
        st.lists(st.sampled_from(live), unique_by=lambda order: order.uuid) if live else st.just([])
    )
    for order in removed:
        index.remove(order)
    live = [order for order in live if order not in removed]
    changed = data.draw(
        st.lists(st.sampled_from(live), unique_by=lambda order: order.uuid) if live else st.just([])
    )
    for order in changed:
        index.remove(order)
        order.patient_name, order.modality = "Changed^Name", "XA"
        index.add(order)
    for _ in range(5):
        query = data.draw(queries())
        assert index.search(query, limit) == plain_scan(live, query)[:limit]
    assert len(index) == len(live)
    assert sorted(index.name_words) == index.name_words
    assert set(index.name_words) == {
        word for order in live for word in normalize_name(order.patient_name).split()
    }


def test_name_matching_rules() -> None:
    assert NameMatch("DOE^JOHN").matches("doe john")
    assert NameMatch("john doe").matches("doe john")
    assert NameMatch("jo").matches("doe john")
    assert not NameMatch("oh").matches("doe john")
    assert NameMatch("d*n").matches("doe john")
    assert not NameMatch("j*").matches("doe john")
    assert NameMatch("*JOHN").matches("doe john")
    assert NameMatch("MÜLLER^jürgen").matches(normalize_name("Müller^Jürgen"))
    assert normalize_name("  Doe^^John  ") == "doe john"
    assert NameMatch("mor*^a*").literal_start == "mor"
    assert NameMatch("*x").literal_start == ""


def test_dicom_dates_and_times() -> None:
    assert dicom_date("20250317") == "2025-03-17"
    assert dicom_date("1997.04.24") == "1997-04-24"
    assert dicom_date("20251399") == ""
    assert dicom_date("") == ""
    assert dicom_time("141500.123") == "14:15"
    assert dicom_time("2561") == ""
    assert dicom_time("9") == ""


def test_read_header_refuses_what_is_not_dicom() -> None:
    for data in (b"", b"%PDF-1.4", b"\x00" * 128 + b"DICM" + b"\x02\x00"):
        with pytest.raises(NotDicom):
            read_header(data)
