"""pacsbot: PostDICOM's cloud PACS inside Slack."""

__version__ = "0.1.0"
