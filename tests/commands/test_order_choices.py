"""Pure pieces of share, flag and assign: name matching, menu values, cards inside messages, modal metadata."""

from __future__ import annotations

from datetime import date

import pytest

from bot.app.kept import Kept
from bot.postdicom import AccountUser, Flag, FlagGroup, PatientOrder, UserGroup
from bot.store import PhiDisplay
from bot.ui.assignments import Assignee
from bot.ui.cards import MAX_OPTION_VALUE, choice_value, chosen_code, split_around_card
from bot.ui.orders import Names
from bot.ui.shares import link, share_link_blocks
from bot.ui.values import BadActionValue, OrderRef
from commands.assign import Directory, Offer, match_assignee
from commands.flag import match_flag
from commands.order_changes import CardPlace, ModalOrigin

ORDER = "33333333-3333-4333-8333-333333333333"
INSTITUTION = "22222222-2222-4222-8222-222222222222"
GROUPS = [
    FlagGroup(
        group_id=1,
        group_name="Priority",
        flag_list=[Flag(flag_id=1, flag_name="Urgent"), Flag(flag_id=2, flag_name="Routine")],
    ),
    FlagGroup(
        group_id=2,
        group_name="Reading",
        flag_list=[
            Flag(flag_id=3, flag_name="Unread"),
            Flag(flag_id=4, flag_name="Read"),
            Flag(flag_id=5, flag_name="Reported"),
        ],
    ),
]


def order(uuid: str = ORDER) -> PatientOrder:
    return PatientOrder(
        patient_order_uuid=uuid, institution_uuid=INSTITUTION, patient_name="DOE^JANE", patient_id="P1"
    )


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("urgent", "1.1"),
        ("URG", "1.1"),
        ("read", "2.4"),
        ("reading:read", "2.4"),
        ("Reading: Reported", "2.5"),
        ("reading unread", "2.3"),
    ],
)
def test_a_flag_name_picks_one_flag(typed: str, code: str) -> None:
    found = match_flag(typed, GROUPS)
    assert found.chosen is not None
    assert found.chosen.code == code


def test_an_ambiguous_flag_name_offers_what_fits() -> None:
    found = match_flag("re", GROUPS)
    assert found.chosen is None
    assert found.ambiguous
    assert {choice.code for choice in found.offered} == {"2.4", "2.5"}


def test_an_unknown_flag_in_a_known_group_offers_the_group() -> None:
    found = match_flag("priority:qqq", GROUPS)
    assert found.chosen is None
    assert {choice.code for choice in found.offered} == {"1.1", "1.2"}


def test_a_flag_name_far_from_everything_offers_nothing() -> None:
    found = match_flag("xyzzy", GROUPS)
    assert (found.chosen, found.offered, found.ambiguous) == (None, (), False)


DIRECTORY = Directory(
    users=(
        AccountUser(
            user_uuid="11111111-1111-4111-8111-111111111111", full_name="Ada Radiologist", user_name="ada"
        ),
        AccountUser(
            user_uuid="b0b0b0b0-1111-4111-8111-111111111111", full_name="Ben Technologist", user_name="ben"
        ),
    ),
    groups=(
        UserGroup(user_group_uuid="66666666-6666-4666-8666-666666666666", user_group_name="Radiologists"),
        UserGroup(user_group_uuid="6b6b6b6b-6666-4666-8666-666666666666", user_group_name="Referrers"),
    ),
)


@pytest.mark.parametrize(
    ("typed", "name"),
    [("ada", "Ada Radiologist"), ("Radiologists", "Radiologists"), ("techno", "Ben Technologist")],
)
def test_an_assignee_name_picks_one(typed: str, name: str) -> None:
    found = match_assignee(typed, DIRECTORY.assignees(), DIRECTORY)
    assert isinstance(found, Assignee)
    assert found.name == name


def test_an_ambiguous_assignee_name_offers_each_once() -> None:
    found = match_assignee("r", DIRECTORY.assignees(), DIRECTORY)
    assert isinstance(found, Offer)
    assert [item.name for item in found.candidates] == ["Radiologists", "Referrers"]


def test_menu_values_fit_slack_and_read_back() -> None:
    value = choice_value(
        order("ffffffff-ffff-4fff-bfff-ffffffffffff"),
        "unassign",
        "u:" + "f" * 8 + "-ffff-4fff-bfff-" + "f" * 12,
    )
    assert len(value) <= MAX_OPTION_VALUE
    encoded, _, options = value.partition("|")
    assert OrderRef.decode(encoded)[0] == "unassign"
    assert chosen_code(options) == "u:ffffffff-ffff-4fff-bfff-ffffffffffff"
    assert chosen_code("urgent") is None


def share_message(uuid: str = ORDER) -> list[dict[str, object]]:
    return share_link_blocks(
        order(uuid),
        PhiDisplay.INITIALS,
        Names.empty(),
        url="https://example.org/s/x",
        expires=date(2026, 12, 31),
        can_download=False,
        shared_by="U1",
    )


def test_a_card_is_found_inside_a_message() -> None:
    blocks = share_message()
    around = split_around_card(blocks, ORDER.upper())
    assert around is not None
    before, after = around
    assert before == blocks[:1]
    assert after == blocks[-1:]
    assert split_around_card(blocks, "44444444-4444-4444-8444-444444444444") is None


def test_modal_metadata_reads_back_and_keeps_a_card_too_big_for_it_server_side() -> None:
    kept: Kept[str] = Kept()
    place = CardPlace("C1", "1.2", "text", ({"type": "divider"},), ())
    origin = ModalOrigin(OrderRef(ORDER, INSTITUTION), "C1", "https://hooks.example/1", place)
    assert ModalOrigin.decode(origin.encode(kept), kept) == origin
    assert len(kept) == 0
    huge = CardPlace(
        "C1", "1.2", "text", tuple({"type": "section", "text": "x" * 500} for _ in range(10)), ()
    )
    metadata = ModalOrigin(OrderRef(ORDER), "C1", None, huge).encode(kept)
    # Slack refuses private_metadata over 3,000 characters: the card waits server-side under a key.
    assert len(metadata) <= 3000
    assert len(kept) == 1
    assert ModalOrigin.decode(metadata, kept).place == huge
    # Where the key is no longer known (another replica, a restart), the card is left as it was.
    assert ModalOrigin.decode(metadata, Kept()).place is None


@pytest.mark.parametrize("junk", ["", "{}", "[]", '{"ref": "nonsense"}', '{"ref": ":x:", "card": 1}'])
def test_modal_metadata_that_is_not_mine_is_refused(junk: str) -> None:
    with pytest.raises(BadActionValue):
        ModalOrigin.decode(junk, Kept())


def test_a_link_cannot_break_out_of_its_brackets() -> None:
    assert (
        link("https://x.example/a|b>c&d", "Open <now>")
        == "<https://x.example/a%7Cb&gt;c&amp;d|Open &lt;now&gt;>"
    )
