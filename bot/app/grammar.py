"""The small, forgiving grammar of ``/pacs`` text. Pure: text in, values or a usage message out.

``/pacs doe john mod:CT,MR from:7d`` — free words are the patient name; ``key:value`` words are
filters; quotes group words. Slack's escaping of mentions, channels, links and e-mails
(``<@U123|ada>``, ``<mailto:a@b|a@b>``) is undone first. Every failure is a :class:`UsageError`
that says what was wrong and shows a corrected example; nothing here raises anything else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from bot.errors import UsageError as UsageError  # the grammar raises it; callers catch it from here

MAX_TEXT_LENGTH = 2000
MODALITIES = frozenset(
    [
        "CR",
        "CT",
        "DX",
        "ES",
        "IO",
        "MG",
        "MR",
        "NM",
        "OT",
        "PT",
        "PX",
        "RF",
        "RG",
        "SC",
        "SR",
        "US",
        "XA",
        "XC",
        "OP",
        "OPT",
        "IVUS",
        "ECG",
        "HD",
        "KO",
        "PR",
        "SEG",
        "DOC",
        "AU",
        "BI",
    ]
)
_SLACK_ESCAPE = re.compile(r"<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_RELATIVE = re.compile(r"(\d{1,4})([dwmy])", re.IGNORECASE)
_DAYS_PER_UNIT = {"d": 1, "w": 7, "m": 30, "y": 365}


@dataclass(frozen=True, slots=True)
class Mention:
    """A Slack user mention, as ``<@U123|name>`` arrives."""

    user_id: str


@dataclass(frozen=True, slots=True)
class Words:
    """Text split into words and ``key:value`` options, in order, with mentions pulled out."""

    words: tuple[str, ...] = ()
    options: tuple[tuple[str, str], ...] = ()
    mentions: tuple[Mention, ...] = ()

    def option(self, key: str) -> str | None:
        """Return the last value given for an option key."""
        values = [value for name, value in self.options if name == key]
        return values[-1] if values else None

    def has_flag(self, flag: str) -> bool:
        """Tell whether a bare word equals the flag (case-insensitive)."""
        return any(word.lower() == flag for word in self.words)

    def without_flags(self, *flags: str) -> tuple[str, ...]:
        """Return the words that are not one of the flags."""
        return tuple(word for word in self.words if word.lower() not in flags)


def unescape_slack(text: str) -> str:
    """Undo Slack's escaping: ``<mailto:a@b|a@b>`` → ``a@b``, ``<#C1|x>`` → ``#x``; mentions stay tokens."""

    def plain(match: re.Match[str]) -> str:
        sigil, target, label = match.group(1), match.group(2), match.group(3)
        if sigil == "@":
            return f"<@{target}>"
        if sigil == "#":
            return f"#{label or target}"
        if sigil == "!":
            return f"@{label or target}"
        if target.startswith("mailto:"):
            return label or target.removeprefix("mailto:")
        return label or target

    text = _SLACK_ESCAPE.sub(plain, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def tokenize(text: str) -> list[str]:
    """Split on whitespace, keeping double- or single-quoted runs together; an unclosed quote is literal."""
    tokens: list[str] = []
    current: list[str] = []
    quoted = False
    index = 0
    while index < len(text):
        char = text[index]
        closer = _CLOSING_QUOTE.get(char)
        end = text.find(closer, index + 1) if closer and (not current or current[-1] == ":") else -1
        if end != -1:
            current.append(text[index + 1 : end])
            quoted = True
            index = end + 1
            continue
        if char.isspace():
            if current or quoted:
                tokens.append("".join(current))
            current, quoted = [], False
        else:
            current.append(char)
        index += 1
    if current or quoted:
        tokens.append("".join(current))
    return tokens


_CLOSING_QUOTE = {'"': '"', "'": "'", "“": "”"}
_MENTION = re.compile(r"<@([A-Z0-9]+)>")
_OPTION = re.compile(r"([a-z][a-z-]*):(.*)", re.IGNORECASE | re.DOTALL)


def split_words(text: str, option_keys: Iterable[str]) -> Words:
    """Split text into words, known ``key:value`` options and user mentions."""
    if len(text) > MAX_TEXT_LENGTH:
        raise UsageError(
            f"that is {len(text)} characters; /pacs takes at most {MAX_TEXT_LENGTH}", "/pacs help"
        )
    keys = {key.lower() for key in option_keys}
    words: list[str] = []
    options: list[tuple[str, str]] = []
    mentions: list[Mention] = []
    for token in tokenize(unescape_slack(text)):
        mention = _MENTION.fullmatch(token)
        if mention:
            mentions.append(Mention(mention.group(1)))
            continue
        option = _OPTION.fullmatch(token)
        if option and option.group(1).lower() in keys:
            options.append((option.group(1).lower(), option.group(2)))
        else:
            words.append(token)
    return Words(tuple(words), tuple(options), tuple(mentions))


def parse_date(text: str, today: date, *, future: bool = False, what: str = "date") -> date:
    """Read ``YYYY-MM-DD``, ``today``, ``yesterday`` or ``7d``/``2w``/``3m``/``1y`` (ago, or ahead if future)."""
    value = text.strip().lower()
    if value == "today":
        return today
    if value in ("yesterday", "tomorrow"):
        return today + timedelta(days=1 if value == "tomorrow" else -1)
    relative = _RELATIVE.fullmatch(value)
    if relative:
        days = int(relative.group(1)) * _DAYS_PER_UNIT[relative.group(2).lower()]
        return today + timedelta(days=days if future else -days)
    exact = _ISO_DATE.fullmatch(value)
    if exact:
        try:
            return date(int(exact.group(1)), int(exact.group(2)), int(exact.group(3)))
        except ValueError:
            pass
    example = "2026-12-31 or 30d" if future else "2026-11-02, today or 7d"
    raise UsageError(f"'{text}' is not a {what} I can read", f"a {what} like {example}")


_YEAR = re.compile(r"(1[89]\d\d|2\d\d\d)")
_YEAR_MONTH = re.compile(r"(1[89]\d\d|2\d\d\d)-(\d{2})")


def _range_end(text: str, today: date, *, what: str, last: bool) -> date:
    """Read one end of a range; a year (``1960``) or a month (``2026-06``) means its first or last day."""
    value = text.strip()
    if _YEAR.fullmatch(value):
        return date(int(value), 12, 31) if last else date(int(value), 1, 1)
    month = _YEAR_MONTH.fullmatch(value)
    if month and 1 <= int(month.group(2)) <= 12:
        year, number = int(month.group(1)), int(month.group(2))
        if not last:
            return date(year, number, 1)
        following = date(year + number // 12, number % 12 + 1, 1)
        return following - timedelta(days=1)
    try:
        return parse_date(value, today, what="date")
    except UsageError:
        raise UsageError(
            f"'{text}' is not a {'study date' if what in ('from', 'to') else 'date'} I can read",
            f"{what}:1960, {what}:2026-06 or {what}:1950-01-01..1960-12-31",
        ) from None


def parse_date_range(text: str, today: date, *, what: str) -> tuple[date | None, date | None]:
    """Read ``A..B``, ``A..`` or ``..B`` (or a single date meaning that day) into a date range."""
    if ".." in text:
        start_text, _, end_text = text.partition("..")
    else:
        start_text = end_text = text
    start = _range_end(start_text, today, what=what, last=False) if start_text.strip() else None
    end = _range_end(end_text, today, what=what, last=True) if end_text.strip() else None
    if start and end and start > end:
        raise UsageError(f"the {what} range ends before it starts", f"{what}:1950-01-01..1960-12-31")
    return start, end


@dataclass(frozen=True, slots=True)
class OrderQuery:
    """What a search asks for; empty fields ask for nothing."""

    patient_name: str = ""
    patient_id: str = ""
    accession_number: str = ""
    other_patient_id: str = ""
    modalities: tuple[str, ...] = ()
    study_from: date | None = None
    study_to: date | None = None
    born_from: date | None = None
    born_to: date | None = None
    folder: str = ""
    institution: str = ""
    extra_words: tuple[str, ...] = field(default=())

    def is_empty(self) -> bool:
        """Tell whether the query has no criterion at all."""
        return self == OrderQuery()

    def narrowed(self, **changes: object) -> OrderQuery:
        """Return a copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


QUERY_OPTIONS = ("id", "acc", "other", "mod", "from", "to", "born", "folder", "inst")
QUERY_EXAMPLE = "/pacs search doe john mod:CT from:7d"


def parse_query(text: str, today: date) -> OrderQuery:
    """Parse search text: free words are the patient name, ``key:value`` words are filters."""
    words = split_words(text, QUERY_OPTIONS)
    for word in words.words:
        option = _OPTION.fullmatch(word)
        if option:
            key = option.group(1).lower()
            near = near_word(key, QUERY_OPTIONS) or next(
                (known for known in QUERY_OPTIONS if key.startswith(known)), None
            )
            guess = f" Did you mean `{near}:`?" if near else ""
            raise UsageError(
                f"`{key}:` is not a filter I know.{guess} Filters: "
                + ", ".join(f"`{known}:`" for known in QUERY_OPTIONS),
                f"/pacs search {near or 'mod'}:{option.group(2) or 'CT'}",
            )
    modalities: list[str] = []
    for listed in (value for key, value in words.options if key == "mod"):
        for part in re.split(r"[,/+ ]+", listed.upper()):
            if not part:
                continue
            if part not in MODALITIES:
                raise UsageError(f"'{part}' is not a modality I know", "mod:CT,MR")
            if part not in modalities:
                modalities.append(part)
    study_from = study_to = born_from = born_to = None
    if (value := words.option("from")) is not None:
        if ".." in value:
            study_from, study_to = parse_date_range(value, today, what="from")
        else:
            study_from = _range_end(value, today, what="from", last=False)
    if (value := words.option("to")) is not None:
        study_to = _range_end(value, today, what="to", last=True)
    if study_from and study_to and study_from > study_to:
        raise UsageError("from: is after to:", "from:2026-11-01 to:2026-11-28")
    if (value := words.option("born")) is not None:
        born_from, born_to = parse_date_range(value, today, what="born")
    return OrderQuery(
        patient_name=" ".join(words.words),
        patient_id=(words.option("id") or "").strip(),
        accession_number=(words.option("acc") or "").strip(),
        other_patient_id=(words.option("other") or "").strip(),
        modalities=tuple(modalities),
        study_from=study_from,
        study_to=study_to,
        born_from=born_from,
        born_to=born_to,
        folder=(words.option("folder") or "").strip(),
        institution=(words.option("inst") or "").strip(),
    )


def dicom_name(free_text: str) -> str:
    """Turn 'doe john' into the DICOM person-name search 'doe^john'; keep text that already has '^' or '*'."""
    text = free_text.strip()
    if not text or "^" in text or "," in text:
        return text.replace(", ", "^").replace(",", "^")
    parts = text.split()
    return "^".join(parts[:2]) + (" " + " ".join(parts[2:]) if len(parts) > 2 else "")


@dataclass(frozen=True, slots=True)
class CommandLine:
    """``/pacs`` text split into its subcommand (lower case) and the rest."""

    name: str
    rest: str


def edit_distance(first: str, second: str) -> int:
    """Count the insertions, deletions, substitutions and swaps of neighbours that turn one word into another."""
    previous_row: list[int] = []
    row = list(range(len(second) + 1))
    for i, char in enumerate(first, 1):
        before, previous_row, row = previous_row, row, [i] + [0] * len(second)
        for j, other in enumerate(second, 1):
            row[j] = min(previous_row[j] + 1, row[j - 1] + 1, previous_row[j - 1] + (char != other))
            if i > 1 and j > 1 and char == second[j - 2] and first[i - 2] == other:
                row[j] = min(row[j], before[j - 2] + 1)
    return row[-1]


def near_word(typed: str, known: Iterable[str]) -> str | None:
    """Return the known word a typed word is a likely typo of (one edit, two for long words), if any."""
    word = typed.lower()
    if len(word) < 3 or not word.isalpha():
        return None
    allowed = 1 if len(word) <= 4 else 2
    scored = sorted(
        (edit_distance(word, name), name) for name in set(known) if len(name) >= 3 and name != word
    )
    return next((name for distance, name in scored if distance <= allowed), None)


def split_command(text: str, known: Iterable[str], default: str) -> CommandLine:
    """Pick the subcommand from the first word; text that starts otherwise goes to the default."""
    stripped = text.strip()
    first, _, rest = stripped.partition(" ")
    name = first.lower()
    if name in set(known):
        return CommandLine(name, rest.strip())
    return CommandLine(default, stripped)
