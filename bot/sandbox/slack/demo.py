"""A ready-made workspace for tests and the console: people with different roles, several kinds of channel."""

from __future__ import annotations

from dataclasses import dataclass

from bot.sandbox.slack.model import Channel, Installation, Team, User
from bot.sandbox.slack.state import SlackState


@dataclass(frozen=True)
class DemoWorkspace:
    """The workspace :func:`seed_demo_workspace` builds, with the app installed."""

    team: Team
    installation: Installation
    bot: User
    owner: User
    admin: User
    member: User
    general: Channel
    reading_room: Channel
    lounge: Channel
    partner_team: Team
    partner: User
    partner_channel: Channel


def seed_demo_workspace(state: SlackState, *, name: str = "St. Elsewhere Radiology") -> DemoWorkspace:
    """Create a workspace with the app installed, its people and channels, and a Slack Connect partner.

    The bot is in ``#general``, the private ``#reading-room`` and the shared ``#ext-partner-imaging``,
    but not in ``#lounge``.
    """
    team = state.add_team(name)
    owner = state.add_user(
        team, "olivia.owner", real_name="Olivia Owner", email="olivia@example.org", is_owner=True
    )
    admin = state.add_user(
        team, "adam.admin", real_name="Adam Admin", email="adam@example.org", is_admin=True
    )
    member = state.add_user(team, "rita.radiologist", real_name="Rita Radiologist", email="rita@example.org")
    partner_team = state.add_team("Partner Imaging Center")
    partner = state.add_user(
        partner_team, "pat.partner", real_name="Pat Partner", email="pat@partner.example"
    )
    people = (owner, admin, member)
    general = state.add_channel(team, "general", members=people)
    reading_room = state.add_channel(team, "reading-room", members=(admin, member), is_private=True)
    lounge = state.add_channel(team, "lounge", members=people)
    partner_channel = state.add_channel(
        team, "ext-partner-imaging", members=(member, partner), connected_teams=(partner_team,)
    )
    installation = state.install_app(team, installer=admin, channels=(general, reading_room, partner_channel))
    return DemoWorkspace(
        team=team,
        installation=installation,
        bot=state.users[installation.bot_user_id],
        owner=owner,
        admin=admin,
        member=member,
        general=general,
        reading_room=reading_room,
        lounge=lounge,
        partner_team=partner_team,
        partner=partner,
        partner_channel=partner_channel,
    )
