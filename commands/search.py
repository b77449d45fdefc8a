"""``/pacs search <query>`` (and bare ``/pacs <query>``): find orders, one page at a time.

Results are ephemeral. The paging buttons carry the query sealed for paging in this workspace (see
``bot.store.crypto``), so they show no patient data to Slack, work on any replica, and expire.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.app.grammar import QUERY_EXAMPLE, OrderQuery, UsageError, parse_query
from bot.app.lookup import Lookup
from bot.app.pacs_app import PacsApp
from bot.app.request import PacsRequest
from bot.postdicom import PatientOrder
from bot.store import Purpose, TokenRefused
from bot.ui.blocks import JsonBlock
from bot.ui.orders import NEXT_PAGE_ACTION, PREVIOUS_PAGE_ACTION, results_blocks

MAX_TOKEN_LENGTH = 1900


async def find(lookup: Lookup, query: OrderQuery) -> list[PatientOrder]:
    """Search; a lone word with a digit is first tried as an accession number, then as a patient ID."""
    word = query.patient_name
    if (
        word
        and " " not in word
        and any(char.isdigit() for char in word)
        and query.narrowed(patient_name="").is_empty()
    ):
        for exact in (OrderQuery(accession_number=word), OrderQuery(patient_id=word)):
            found = await lookup.search(exact)
            if found:
                return found
    return await lookup.search(query)


async def render_results(
    request: PacsRequest, lookup: Lookup, text: str, page: int, *, note: str = ""
) -> tuple[str, list[JsonBlock]]:
    """Search and render one page of results; return the message's text and blocks."""
    query = parse_query(text, datetime.now(UTC).date())
    if query.is_empty():
        raise UsageError("tell me what to look for: a name, an ID or a filter", QUERY_EXAMPLE)
    orders = await find(lookup, query)
    token = request.services.store.cipher.seal(Purpose.PAGE_BUTTON, request.workspace.key, text)
    blocks = results_blocks(
        orders,
        await lookup.phi(),
        await lookup.names(),
        page=page,
        page_token=token if len(token) <= MAX_TOKEN_LENGTH else None,
        note=note,
    )
    return f"{len(orders)} order{'s' if len(orders) != 1 else ''} found", blocks


async def redraw_results(request: PacsRequest, lookup: Lookup, note: str) -> bool:
    """Redraw the page of results a change was asked from, with a note; tell whether it could."""
    if request.results_page is None or request.respond is None:
        return False
    page, token = request.results_page
    try:
        text = request.services.store.cipher.unseal(Purpose.PAGE_BUTTON, request.workspace.key, token)
    except TokenRefused:
        return False
    summary, blocks = await render_results(request, lookup, text, page, note=note)
    await request.reply(summary, blocks, replace_original=True)
    return True


def register(app: PacsApp) -> None:
    """Add ``/pacs search`` and its paging buttons."""
    cipher = app.services.store.cipher

    async def show(request: PacsRequest, text: str, page: int, *, replace: bool) -> None:
        lookup = await Lookup.start(request)
        summary, blocks = await render_results(request, lookup, text, page)
        await request.reply(summary, blocks, replace_original=replace)

    async def search(request: PacsRequest) -> None:
        await show(request, request.text, 1, replace=False)

    async def turn_page(request: PacsRequest, action: dict[str, Any]) -> None:
        page_text, _, token = str(action.get("value") or "").partition(":")
        try:
            text = cipher.unseal(Purpose.PAGE_BUTTON, request.workspace.key, token)
            page = int(page_text)
        except (TokenRefused, ValueError):
            await request.reply(
                "That page is from an older search I cannot read any more. Please search again."
            )
            return
        await show(request, text, page, replace=True)

    app.router.add(
        "search",
        search,
        summary="Find orders: free words are the patient's name; filters narrow it down",
        usage="search <name> [id:…] [acc:…] [mod:CT,MR] [from:7d] [to:today] [born:1950-01-01..1960-12-31] [folder:…] [inst:…]",
        examples=(
            "/pacs doe john",
            "/pacs search mod:CT from:7d",
            "/pacs search id:PID-1",
            "/pacs search folder:Cases/2026",
        ),
        aliases=("find", "s"),
    )
    app.action(PREVIOUS_PAGE_ACTION, turn_page)
    app.action(NEXT_PAGE_ACTION, turn_page)
