"""Who is a workspace admin, asked of Slack with ``users.info`` and remembered for a minute."""

from __future__ import annotations

from cachetools import TTLCache
from slack_sdk.web.async_client import AsyncWebClient


class AdminDirectory:
    """Answer whether a Slack user is an admin or owner of their workspace."""

    def __init__(self, *, ttl_seconds: float = 60.0, max_users: int = 10_000) -> None:
        self._cache: TTLCache[tuple[str, str], bool] = TTLCache(maxsize=max_users, ttl=ttl_seconds)

    async def is_admin(self, client: AsyncWebClient, team_key: str, user_id: str) -> bool:
        """Tell whether the user is an admin, owner or primary owner."""
        key = (team_key, user_id)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        response = await client.users_info(user=user_id)
        user = response.get("user") or {}
        admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        self._cache[key] = admin
        return admin

    def workspaces(self) -> set[str]:
        """Return the workspaces with remembered answers."""
        return {team_key for team_key, _ in list(self._cache.keys())}

    async def release(self, workspace_key: str) -> None:
        """Forget the answers about one workspace's users."""
        for key in [key for key in list(self._cache.keys()) if key[0] == workspace_key]:
            self._cache.pop(key, None)

    def forget(self) -> None:
        """Drop every remembered answer."""
        self._cache.clear()
