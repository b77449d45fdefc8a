"""``WorkspaceRef``: which Slack workspace (or Enterprise Grid organization) a row belongs to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WorkspaceRef:
    """A Slack install target, identified the way slack_sdk's installation stores identify it.

    An org-wide install (``is_enterprise_install``) is one install for the whole organization, so
    its ``team_id`` is dropped: every team of the organization shares its connection and settings.
    Build it from a Bolt context with ``WorkspaceRef(context.enterprise_id, context.team_id,
    context.is_enterprise_install)``.
    """

    enterprise_id: str | None
    team_id: str | None
    is_enterprise_install: bool = False

    def __post_init__(self) -> None:
        # Slack sends "" as well as null for "no enterprise"; both mean the same thing here.
        object.__setattr__(self, "enterprise_id", self.enterprise_id or None)
        object.__setattr__(self, "team_id", self.team_id or None)
        if self.is_enterprise_install:
            if self.enterprise_id is None:
                raise ValueError("an org-wide install needs an enterprise_id")
            object.__setattr__(self, "team_id", None)
        elif self.team_id is None:
            raise ValueError("a workspace install needs a team_id")

    @property
    def key(self) -> str:
        """Return the stable text key under which this workspace's rows are stored."""
        return f"{self.enterprise_id or '-'}:{self.team_id or '-'}"

    def __str__(self) -> str:
        return self.key
