"""The /pacs text grammar: forgiving, exact where it matters, never crashing."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.app.grammar import (
    OrderQuery,
    UsageError,
    dicom_name,
    edit_distance,
    near_word,
    parse_date,
    parse_date_range,
    parse_query,
    split_command,
    split_words,
    tokenize,
    unescape_slack,
)

TODAY = date(2026, 11, 28)


def test_free_words_are_the_name_and_options_are_filters() -> None:
    query = parse_query(
        "doe john mod:ct,MR from:7d to:today born:1950-01-01..1960-12-31 acc:A-1 id:P1", TODAY
    )
    assert query == OrderQuery(
        patient_name="doe john",
        patient_id="P1",
        accession_number="A-1",
        modalities=("CT", "MR"),
        study_from=date(2026, 11, 21),
        study_to=TODAY,
        born_from=date(1950, 1, 1),
        born_to=date(1960, 12, 31),
    )


def test_quotes_group_words_and_an_unclosed_quote_is_literal() -> None:
    assert tokenize('share "DOE JOHN" expires:"30 d"') == ["share", "DOE JOHN", "expires:30 d"]
    assert tokenize("it's \"unclosed here") == ["it's", '"unclosed', "here"]
    assert tokenize('""') == [""]


def test_slack_escapes_are_undone() -> None:
    text = "share 1 email:<mailto:dr@example.org|dr@example.org> <#C1|radiology> <https://x.example/a|x> &lt;b&gt;"
    assert unescape_slack(text) == "share 1 email:dr@example.org #radiology x <b>"
    words = split_words("assign ACC-1 <@U0ADA|ada> Neuro", ["expires"])
    assert [mention.user_id for mention in words.mentions] == ["U0ADA"]
    assert words.words == ("assign", "ACC-1", "Neuro")


@pytest.mark.parametrize(
    ("text", "future", "expected"),
    [
        ("2026-12-31", False, date(2026, 12, 31)),
        ("today", False, TODAY),
        ("yesterday", False, date(2026, 11, 27)),
        ("7d", False, date(2026, 11, 21)),
        ("2W", False, date(2026, 11, 14)),
        ("30d", True, date(2026, 12, 28)),
        ("1y", True, date(2027, 11, 28)),
    ],
)
def test_dates_absolute_and_relative(text: str, future: bool, expected: date) -> None:
    assert parse_date(text, TODAY, future=future) == expected


@pytest.mark.parametrize("text", ["2026-02-30", "31/12/2026", "soon", "", "99999d", "2026-13-01"])
def test_unreadable_dates_explain_themselves(text: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_date(text, TODAY)
    assert raised.value.example


def test_ranges_and_their_mistakes() -> None:
    assert parse_date_range("1950-01-01..", TODAY, what="born") == (date(1950, 1, 1), None)
    assert parse_date_range("..1960-12-31", TODAY, what="born") == (None, date(1960, 12, 31))
    assert parse_date_range("1955-05-05", TODAY, what="born") == (date(1955, 5, 5), date(1955, 5, 5))
    with pytest.raises(UsageError, match="ends before it starts"):
        parse_date_range("1960-01-01..1950-01-01", TODAY, what="born")
    with pytest.raises(UsageError, match="from: is after to:"):
        parse_query("from:today to:7d", TODAY)
    with pytest.raises(UsageError, match="'XX' is not a modality"):
        parse_query("mod:CT,XX", TODAY)


def test_names_become_dicom_searches() -> None:
    assert dicom_name("doe john") == "doe^john"
    assert dicom_name("Doe, John") == "Doe^John"
    assert dicom_name("DOE^J*") == "DOE^J*"
    assert dicom_name("  ") == ""


def test_commands_are_picked_from_the_first_word_or_default_to_search() -> None:
    known = ["search", "share", "help"]
    assert split_command("SHARE  acc-1 download", known, "search").name == "share"
    assert split_command("share  acc-1 download", known, "search").rest == "acc-1 download"
    assert split_command("doe john", known, "search") == split_command("search doe john", known, "search")


def test_over_long_text_is_refused_politely() -> None:
    with pytest.raises(UsageError, match="at most"):
        parse_query("x" * 5000, TODAY)


@settings(max_examples=10_000, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_query_or_a_usage_message(text: str) -> None:
    outcome: OrderQuery | UsageError
    try:
        outcome = parse_query(text, TODAY)
    except UsageError as error:
        outcome = error
    if isinstance(outcome, UsageError):
        assert outcome.message
        assert outcome.example
    else:
        assert isinstance(outcome, OrderQuery)


def test_edit_distance_counts_a_swap_of_neighbours_as_one() -> None:
    assert edit_distance("serach", "search") == 1
    assert edit_distance("hlep", "help") == 1
    assert edit_distance("flg", "flag") == 1
    assert edit_distance("doe", "me") == 2
    assert edit_distance("", "abc") == 3


def test_near_word_suggests_only_close_commands_of_three_letters_or_more() -> None:
    known = ["search", "share", "help", "settings", "flag", "me", "s", "link"]
    assert near_word("setings", known) == "settings"
    assert near_word("shar", known) == "share"
    assert near_word("doe", known) is None
    assert near_word("mo", known) is None, "too short to guess"
    assert near_word("acc0000001", known) is None, "not a word"
    assert near_word("search", known) is None, "not a typo"


def test_an_unknown_filter_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="`foo:` is not a filter"):
        parse_query("doe foo:bar", date(2026, 1, 1))


def test_from_takes_a_range_like_born() -> None:
    query = parse_query("mod:CT from:2026-06-01..2026-06-30", TODAY)
    assert (query.study_from, query.study_to) == (date(2026, 6, 1), date(2026, 6, 30))
    query = parse_query("from:2026-06", TODAY)
    assert query.study_from == date(2026, 6, 1)


def test_a_year_or_a_month_is_a_range_of_its_days() -> None:
    query = parse_query("born:1960", TODAY)
    assert (query.born_from, query.born_to) == (date(1960, 1, 1), date(1960, 12, 31))
    query = parse_query("born:1960..1962", TODAY)
    assert (query.born_from, query.born_to) == (date(1960, 1, 1), date(1962, 12, 31))
    query = parse_query("from:2026-02..2026-02", TODAY)
    assert (query.study_from, query.study_to) == (date(2026, 2, 1), date(2026, 2, 28))
    with pytest.raises(UsageError) as refused:
        parse_query("born:sixties", TODAY)
    assert "born:1960" in refused.value.example
    assert "7d" not in refused.value.example
