"""Finding orders: run a search the right way, and turn what a person typed into one order.

A search picks the one of PostDICOM's four search calls that fits the query and filters the rest
locally. A reference (accession number, patient ID, or any search) that names exactly one order
runs the action at once; several give a picker; none says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypedDict

from bot.app.grammar import OrderQuery, UsageError, dicom_name, parse_query, tokenize
from bot.app.matching import Candidate, fold, match
from bot.app.request import PacsRequest, PostDicomHandle
from bot.postdicom import ApiError, PatientOrder
from bot.store import PhiDisplay
from bot.ui.orders import Names
from bot.ui.values import OrderRef

MAX_RESULTS = 500


def _day(text: str) -> date | None:
    digits = "".join(char for char in text[:10] if char.isdigit())
    if len(digits) < 8:
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def _within(value: date | None, start: date | None, end: date | None) -> bool:
    if start is None and end is None:
        return True
    if value is None:
        return False
    return (start is None or value >= start) and (end is None or value <= end)


# Letters that names often carry with an accent (ü, ç, ñ, ş, ğ, ž…): a broad search leaves them open.
_ACCENTED_OFTEN = frozenset("aeiouycnszg")
MIN_LITERAL_LETTERS = 2


def accent_blind_name(typed: str) -> str | None:
    """Return a broader PostDICOM name pattern for a name typed without accents ("" means any name).

    None when the name has accents or wildcards of its own: PostDICOM's search then means what was typed.
    """
    if "*" in typed or not typed.isascii():
        return None
    words = fold(typed.replace(",", " ")).split()
    if not words:
        return None
    longest = max(words, key=len)
    pattern = "".join("*" if char in _ACCENTED_OFTEN else char for char in longest)
    while "**" in pattern:
        pattern = pattern.replace("**", "*")
    literal = sum(char != "*" for char in pattern)
    return f"*{pattern.strip('*')}*" if literal >= MIN_LITERAL_LETTERS else ""


def matches_locally(order: PatientOrder, query: OrderQuery) -> bool:
    """Apply the query's criteria to an order PostDICOM already returned (for what a call cannot filter)."""
    name_words = fold(query.patient_name.replace(",", " ")).split()
    order_words = fold(order.patient_name).split()
    if any(not any(word.startswith(wanted.rstrip("*")) for word in order_words) for wanted in name_words):
        return False
    for wanted, actual in (
        (query.patient_id, order.patient_id),
        (query.accession_number, order.accession_number),
        (query.other_patient_id, order.other_patient_id),
    ):
        if wanted and wanted.casefold() != actual.casefold():
            return False
    if query.modalities and order.order_modality.upper() not in query.modalities:
        return False
    return _within(_day(order.performed_datetime), query.study_from, query.study_to) and _within(
        _day(order.patient_birthdate), query.born_from, query.born_to
    )


class SearchCriteria(TypedDict):
    """The criteria PostDICOM's three order searches share, by their keyword names."""

    institution_uuid_list: list[str]
    patient_name: str | None
    accession_number: str | None
    patient_id: str | None
    other_patient_id: str | None
    modalities: list[str] | None


@dataclass
class Lookup:
    """Order finding for one request, with the workspace's PostDICOM handle."""

    request: PacsRequest
    handle: PostDicomHandle

    @classmethod
    async def start(cls, request: PacsRequest) -> Lookup:
        """Connect (if needed) and return a lookup for the request's workspace."""
        return cls(request, await request.postdicom())

    @property
    def user(self) -> str:
        """Return the PostDICOM user the app acts as."""
        return self.handle.user_uuid

    async def phi(self) -> PhiDisplay:
        """Return the workspace's PHI display setting."""
        return (await self.request.settings()).phi_display

    async def names(self) -> Names:
        """Return the dictionaries that turn flag, user and group ids into names (cached)."""
        return await self.request.services.accounts.names(self.request.workspace, self.handle)

    async def institution_uuids(self, typed: str) -> list[str]:
        """Resolve an institution name to its UUID, refusing an unknown or ambiguous one."""
        account = self.handle.client.account
        institutions = account.institutions() if account else []
        found = match(
            typed, [Candidate(item.institution_name, item.institution_uuid) for item in institutions]
        )
        if found.chosen is None:
            options = (
                found.ambiguous
                or found.closest
                or tuple(Candidate(item.institution_name, item.institution_uuid) for item in institutions)
            )
            raise UsageError(
                f"no single institution is called '{typed}'",
                "inst:" + (options[0].name if options else "Main"),
            )
        return [found.chosen.value]

    async def folder_uuid(self, typed: str) -> str:
        """Resolve a folder path or name to its UUID, refusing an unknown or ambiguous one."""
        folders = await self.request.services.dictionaries.folders(
            self.request.workspace.key, self.handle.client, self.user
        )
        exact = [entry for entry in folders if entry.path.casefold() == typed.strip("/").casefold()]
        if len(exact) == 1:
            return exact[0].folder.folder_uuid
        found = match(typed, [Candidate(entry.path, entry.folder.folder_uuid) for entry in folders])
        if found.chosen is None:
            options = found.ambiguous or found.closest
            hint = (
                ", ".join(candidate.name for candidate in options[:5])
                or "none yet; `/pacs folder create <name>`"
            )
            raise UsageError(f"no single folder is called '{typed}' (closest: {hint})", "/pacs folder list")
        return found.chosen.value

    async def search(self, query: OrderQuery) -> list[PatientOrder]:
        """Run a query with the fitting PostDICOM search and return the matching orders."""
        institutions = await self.institution_uuids(query.institution) if query.institution else []
        orders = await self._fetch(query, institutions, dicom_name(query.patient_name) or None)
        broader = accent_blind_name(query.patient_name) if query.patient_name and not query.folder else None
        if broader is not None:
            # PostDICOM matches names accent by accent: "muller" misses "Müller". A broader search
            # is narrowed here with the accents folded away.
            seen = {order.patient_order_uuid.lower() for order in orders}
            more = await self._fetch(query, institutions, broader or None)
            orders += [order for order in more if order.patient_order_uuid.lower() not in seen]
        # PostDICOM filters what each call takes; the rest (folder contents, a second date range)
        # is filtered here, so every query means the same whichever call served it.
        # A burst of searches comes back together; the acks of newer commands go before their rendering.
        await self.request.services.acks.settled()
        return [order for order in orders if matches_locally(order, query)][:MAX_RESULTS]

    async def _fetch(
        self, query: OrderQuery, institutions: list[str], name: str | None
    ) -> list[PatientOrder]:
        client, user = self.handle.client, self.user
        # PostDICOM's JavaScript library leaves an empty criterion out of the request: None here.
        criteria: SearchCriteria = {
            "institution_uuid_list": institutions,
            "patient_name": name,
            "accession_number": query.accession_number or None,
            "patient_id": query.patient_id or None,
            "other_patient_id": query.other_patient_id or None,
            "modalities": list(query.modalities) or None,
        }
        if query.folder:
            return await client.get_patient_order_list_in_folder(
                user_uuid=user, folder_uuid=await self.folder_uuid(query.folder)
            )
        if query.study_from or query.study_to:
            return await client.get_patient_order_list_with_date_range(
                user_uuid=user, start_date=_iso(query.study_from), end_date=_iso(query.study_to), **criteria
            )
        if query.born_from or query.born_to:
            return await client.get_patient_order_list_with_birthdate(
                user_uuid=user,
                start_birthdate=_iso(query.born_from),
                end_birthdate=_iso(query.born_to),
                **criteria,
            )
        return await client.get_patient_order_list(user_uuid=user, **criteria)

    async def order(self, ref: OrderRef) -> PatientOrder:
        """Fetch one order by reference; PostDICOM refuses an order of another account."""
        institutions = [ref.institution_uuid] if ref.institution_uuid else []
        if not institutions:
            account = self.handle.client.account
            institutions = [item.institution_uuid for item in (account.institutions() if account else [])]
        last_error: ApiError | None = None
        for institution in institutions:
            try:
                order = await self.handle.client.get_patient_order_properties(
                    self.user, institution, ref.order_uuid
                )
            except ApiError as error:
                last_error = error
                continue
            if order.institution_uuid is None:
                order = order.model_copy(update={"institution_uuid": institution})
            return order
        raise last_error or ApiError("GetPatientOrderProperties", "order not found")

    async def resolve(self, typed: str, today: date) -> list[PatientOrder]:
        """Find the orders a typed reference may mean: by accession, then patient ID, then any search."""
        text = typed.strip()
        if not text:
            raise UsageError(
                "which order? Give an accession number, a patient ID or a name", "/pacs share ACC-1234"
            )
        tokens = tokenize(text)
        if len(tokens) == 1:
            single = tokens[0]
            for query in (OrderQuery(accession_number=single), OrderQuery(patient_id=single)):
                found = await self.search(query)
                if found:
                    return found
        return await self.search(parse_query(text, today))


def split_reference(words: Sequence[str]) -> tuple[str, list[str]]:
    """Take the first word (or quoted phrase) as the order reference and return the rest."""
    if not words:
        return "", []
    return words[0], list(words[1:])


def _iso(day: date | None) -> str | None:
    """Return a date as PostDICOM's search takes it, or None to leave the bound out."""
    return day.isoformat() if day else None
