"""The message a share's files show in: each file's line, each study's card once, within Slack's limit."""

from __future__ import annotations

import json

from bot.jobs import Failure, Phase, Progress
from bot.ui.blocks import JsonBlock
from bot.ui.uploads import (
    MAX_CARDS,
    MAX_MESSAGE_BLOCKS,
    Shown,
    ShownCard,
    failure_message,
    progress_message,
    share_message,
)


def card(uuid: str) -> ShownCard:
    return ShownCard(
        uuid,
        True,
        [
            {"type": "section", "text": {"type": "mrkdwn", "text": f":link: Open the study {uuid}"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"order {uuid}"}]},
        ],
    )


def done(name: str, *orders: str, note: str = "") -> Shown:
    tail = [{"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}] if note else []
    head = [{"type": "section", "text": {"type": "mrkdwn", "text": f"`{name}` is in PostDICOM"}}]
    return Shown(f"{name}: uploaded", head, [card(uuid) for uuid in orders], tail, status="done")


def failed(name: str, *, final: bool = True, retryable: bool = True, job_id: str = "J1") -> Shown:
    failure = Failure(f"`{name}` is truncated.", "dicom.truncated", retryable=retryable)
    return failure_message(name, failure, final=final, retry_at=None, job_id=job_id)


def texts(blocks: list[JsonBlock]) -> str:
    return json.dumps(blocks)


def test_one_file_shows_exactly_its_own_part() -> None:
    part = done("IM0.dcm", "o1", note="1 file skipped")
    assert share_message([part]) == (part.text, part.blocks)


def test_every_file_has_its_line_and_each_study_its_card_once() -> None:
    text, blocks = share_message(
        [
            done("IM0.dcm", "o1"),
            progress_message("IM1.dcm", Progress(Phase.UPLOADING, 50, 100)),
            done("IM2.dcm", "o1"),
        ]
    )
    rendered = texts(blocks)
    for name in ("IM0.dcm", "IM1.dcm", "IM2.dcm"):
        assert name in rendered
        assert name in text
    assert rendered.count("Open the study o1") == 1
    assert "50%" in rendered  # the bar under the file still uploading


def test_notes_repeated_by_several_files_show_once() -> None:
    _, blocks = share_message(
        [done("a.zip", "o1", note="DICOMDIR left out"), done("b.zip", "o2", note="DICOMDIR left out")]
    )
    assert texts(blocks).count("DICOMDIR left out") == 1


def test_a_failed_file_keeps_its_retry_button_beside_the_others() -> None:
    _, blocks = share_message([done("IM0.dcm", "o1"), failed("cut.dcm")])
    assert [block["type"] for block in blocks].count("actions") == 1
    assert "J1" in texts(blocks)


def test_a_large_share_stays_within_slacks_block_limit_keeping_every_line() -> None:
    parts = [done(f"IM{index}.dcm", f"o{index}", note=f"note {index}") for index in range(60)]
    text, blocks = share_message(parts[:45])
    assert len(blocks) <= MAX_MESSAGE_BLOCKS
    assert all(f"IM{index}.dcm" in texts(blocks) for index in range(45))
    assert len(text) <= 3000

    _, many_studies = share_message(parts[:10])
    assert texts(many_studies).count("Open the study") == MAX_CARDS
    assert "5 more studies" in texts(many_studies)


def test_a_part_survives_being_kept_with_its_job() -> None:
    part = done("IM0.dcm", "o1", note="n")
    assert Shown.from_store(json.loads(json.dumps(part.to_store()))) == part


def test_the_first_line_sums_the_share_up() -> None:
    working = progress_message("IM1.dcm", Progress(Phase.UPLOADING, 50, 100))
    broken = failed("cut.dcm", retryable=False)
    waiting = failed("IM2.dcm", final=False)

    def first_line(*parts: Shown) -> str:
        text, blocks = share_message(parts)
        assert text.startswith(blocks[0]["text"]["text"])
        return str(blocks[0]["text"]["text"])

    assert (
        first_line(done("a", "o1"), working, done("b", "o1"))
        == ":arrows_counterclockwise: *3 files → PostDICOM* · 2 done"
    )
    assert first_line(done("a", "o1"), waiting) == ":arrows_counterclockwise: *2 files → PostDICOM* · 1 done"
    assert (
        first_line(done("a", "o1"), done("b", "o2"))
        == ":white_check_mark: *2 files shared here are in PostDICOM*"
    )
    assert (
        first_line(done("a", "o1"), broken)
        == ":warning: *1 of 2 files shared here are in PostDICOM*; 1 not uploaded"
    )


def test_a_studys_card_with_its_share_link_wins_over_one_without() -> None:
    unlinked = Shown(
        "a: uploaded", done("a").head, [ShownCard("o1", False, [{"type": "divider"}])], status="done"
    )
    linked = done("b", "o1")
    _, blocks = share_message([unlinked, linked])
    assert "Open the study o1" in texts(blocks)
    assert {"type": "divider"} not in blocks
    assert unlinked.linked_orders == set()
    assert linked.linked_orders == {"o1"}
