"""``/pacs me <postdicom user>`` and ``/pacs users``: who is who in PostDICOM.

A Slack user is a PostDICOM user by the link ``me`` makes, else by the same e-mail address. Other
commands (folder shares to ``@someone``) use :func:`postdicom_user_for` to make that step.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.app.errors import NotAllowed, UserFacingError
from bot.app.grammar import UsageError, unescape_slack
from bot.app.matching import Candidate, match
from bot.app.pacs_app import PacsApp
from bot.app.request import PacsRequest, PostDicomHandle
from bot.postdicom import AccountUser
from bot.store.audit import AuditOutcome
from bot.ui.blocks import escape, message
from bot.ui.directory import user_label, users_blocks

UNLINK_WORDS = frozenset({"none", "unlink", "-", "nobody"})


async def account_users(request: PacsRequest, handle: PostDicomHandle) -> list[AccountUser]:
    """Return the account's users from the cached dictionary."""
    return await request.services.dictionaries.users(request.workspace.key, handle.client, handle.user_uuid)


async def slack_email(request: PacsRequest, slack_user_id: str) -> str:
    """Return a Slack user's e-mail address, or '' when Slack does not share it."""
    response = await request.client.users_info(user=slack_user_id)
    profile = (response.get("user") or {}).get("profile") or {}
    return str(profile.get("email") or "").strip()


def _by_uuid(users: Sequence[AccountUser], user_uuid: str) -> AccountUser | None:
    return next((user for user in users if user.user_uuid.lower() == user_uuid.lower()), None)


def _by_email(users: Sequence[AccountUser], email: str) -> AccountUser | None:
    if not email:
        return None
    found = [user for user in users if user.email and user.email.casefold() == email.casefold()]
    return found[0] if len(found) == 1 else None


async def postdicom_user_for(
    request: PacsRequest, handle: PostDicomHandle, slack_user_id: str
) -> AccountUser:
    """Find the PostDICOM user a Slack user is: by their ``/pacs me`` link, else by e-mail."""
    users = await account_users(request, handle)
    link = await request.services.store.user_links.get(request.workspace, slack_user_id)
    if link is not None:
        linked = _by_uuid(users, link.postdicom_user_uuid)
        if linked is not None:
            return linked
    found = _by_email(users, await slack_email(request, slack_user_id))
    if found is None:
        raise UserFacingError(
            f"<@{slack_user_id}> is not linked to a PostDICOM user, and no PostDICOM user has their e-mail address.",
            hint="They can link themselves with `/pacs me <their PostDICOM name>`.",
        )
    return found


def pick_user(typed: str, users: Sequence[AccountUser]) -> AccountUser:
    """Pick the PostDICOM user someone means by name, user name or e-mail; never guess between several."""
    candidates = [
        Candidate(name, user)
        for user in users
        for name in (user.full_name, user.user_name, user.email)
        if name
    ]
    found = match(typed, candidates)
    if found.chosen is not None:
        return found.chosen.value
    # One person can match on several of their names; that is still one person.
    people = {candidate.value.user_uuid.lower(): candidate.value for candidate in found.ambiguous}
    if len(people) == 1:
        return next(iter(people.values()))
    options = list(people.values()) or [candidate.value for candidate in found.closest]
    names = ", ".join(dict.fromkeys(user_label(user) for user in options[:5]))
    if people:
        raise UsageError(
            f"'{typed}' could be {names}; say which", f"/pacs me {options[0].user_name or 'ada'}"
        )
    hint = f" (closest: {names})" if names else ""
    raise UsageError(f"no PostDICOM user is called '{typed}'{hint}", "/pacs users")


def register(app: PacsApp) -> None:
    """Add ``/pacs me`` and ``/pacs users``."""
    store = app.services.store

    async def me(request: PacsRequest) -> None:
        typed = unescape_slack(request.text).strip().strip("\"'")
        handle = await request.postdicom()
        users = await account_users(request, handle)
        if not typed:
            await show_link(request, users)
            return
        if typed.lower() in UNLINK_WORDS:
            removed = await store.user_links.unlink(request.workspace, request.user_id)
            await request.audit("user.unlink", AuditOutcome.SUCCEEDED if removed else AuditOutcome.FAILED)
            await request.reply(
                "You are no longer linked to a PostDICOM user."
                if removed
                else "You were not linked to anyone."
            )
            return
        chosen = pick_user(typed, users)
        email = await slack_email(request, request.user_id)
        same_email = bool(chosen.email and email and chosen.email.casefold() == email.casefold())
        # Being someone in PostDICOM means their assignments and shares: only an admin may pick
        # a user whose e-mail address is not theirs.
        if not same_email and not await request.is_admin():
            await request.audit("user.link", AuditOutcome.DENIED, error_code="email_mismatch")
            raise NotAllowed(
                f"*{escape(user_label(chosen))}* does not have the e-mail address of your Slack profile, "
                "so you cannot link yourself to that PostDICOM user.",
                hint="A workspace admin can, or the address can be corrected in PostDICOM or Slack.",
            )
        await store.user_links.link(request.workspace, request.user_id, chosen.user_uuid.lower())
        await request.audit("user.link", AuditOutcome.SUCCEEDED)
        hint = ""
        if not same_email:
            hint = "Note: this PostDICOM user's e-mail address is not the one on your Slack profile."
        await request.reply(
            f"You are {user_label(chosen)} in PostDICOM",
            message(
                f":link: You are now *{escape(user_label(chosen))}* in PostDICOM. "
                "Assignments and shares to you go to this user.",
                hint=hint,
            ),
        )

    async def show_link(request: PacsRequest, users: Sequence[AccountUser]) -> None:
        link = await store.user_links.get(request.workspace, request.user_id)
        linked = _by_uuid(users, link.postdicom_user_uuid) if link else None
        if linked is not None:
            await request.reply(
                "Your PostDICOM user",
                message(
                    f"You are *{escape(user_label(linked))}* in PostDICOM.",
                    hint="Change it with `/pacs me <name>`, or `/pacs me none` to unlink.",
                ),
            )
            return
        guess = _by_email(users, await slack_email(request, request.user_id))
        if guess is not None:
            text = (
                f"You are not linked yet, but *{escape(user_label(guess))}* has your e-mail address, "
                f"so that is who you are for now. To make it explicit: `/pacs me {escape(guess.user_name or guess.email)}`."
            )
        else:
            text = "You are not linked to a PostDICOM user. Find yourself with `/pacs users`, then `/pacs me <name>`."
        await request.reply("Your PostDICOM user", message(text))

    async def list_users(request: PacsRequest) -> None:
        handle = await request.postdicom()
        account = handle.client.account
        users = [
            # GetUserList may leave out the institutions that the session's account lists.
            user.model_copy(update={"institution_list": known.institution_list})
            if not user.institution_list and account and (known := account.user(user.user_uuid))
            else user
            for user in await account_users(request, handle)
        ]
        linked: dict[str, list[str]] = {}
        for link in await store.user_links.all(request.workspace):
            linked.setdefault(link.postdicom_user_uuid.lower(), []).append(link.slack_user_id)
        await request.reply(
            f"{len(users)} PostDICOM users", users_blocks(users, linked, acting_user=handle.user_uuid)
        )

    app.router.add(
        "me",
        me,
        summary="Link yourself to your PostDICOM user (so assignments and shares to you find you)",
        usage="me [<name, user name or e-mail> | none]",
        examples=("/pacs me ada", "/pacs me", "/pacs me none"),
    )
    app.router.add(
        "users",
        list_users,
        summary="List the PostDICOM account's users and who in Slack is linked to them",
        usage="users",
        examples=("/pacs users",),
    )
