"""Pick a dictionary entry (flag, group, user, folder, institution) by what a person typed.

Exact (case-insensitive) beats prefix beats substring beats fuzzy; a tie at the best level is
ambiguous and never silently resolved. No match offers the closest names instead.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
MAX_SUGGESTIONS = 5


@dataclass(frozen=True, slots=True)
class Candidate(Generic[T]):
    """A name a person might type, and what it stands for."""

    name: str
    value: T


@dataclass(frozen=True, slots=True)
class Matched(Generic[T]):
    """The outcome: one choice, or several to pick from (ambiguous or merely close)."""

    chosen: Candidate[T] | None
    ambiguous: tuple[Candidate[T], ...] = ()
    closest: tuple[Candidate[T], ...] = ()


# Letters that Unicode does not decompose into a base letter and an accent.
_UNDECOMPOSED = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "\u0131": "i", "þ": "th"})


def fold(text: str) -> str:
    """Fold case, accents and separators, for comparing names."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_UNDECOMPOSED))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.replace("^", " ").replace("_", " ").replace("-", " ").split())


def match(typed: str, candidates: Iterable[Candidate[T]]) -> Matched[T]:
    """Match typed text against candidates' names."""
    pool = list(candidates)
    wanted = fold(typed)
    if not wanted:
        return Matched(None, closest=tuple(pool[:MAX_SUGGESTIONS]))
    for test in (
        lambda name: name == wanted,
        lambda name: name.startswith(wanted),
        lambda name: any(word.startswith(wanted) for word in name.split()),
        lambda name: wanted in name,
    ):
        found = [candidate for candidate in pool if test(fold(candidate.name))]
        if len(found) == 1:
            return Matched(found[0])
        if found:
            return Matched(None, ambiguous=tuple(found[: MAX_SUGGESTIONS * 4]))
    return Matched(None, closest=tuple(closest(wanted, pool)))


def closest(wanted: str, pool: Sequence[Candidate[T]]) -> list[Candidate[T]]:
    """Return the candidates whose names look most like the text."""
    folded = {fold(candidate.name): candidate for candidate in pool}
    names = difflib.get_close_matches(fold(wanted), list(folded), n=MAX_SUGGESTIONS, cutoff=0.4)
    return [folded[name] for name in names]
