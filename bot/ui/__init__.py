"""Block Kit rendering: pure functions from our values to Slack blocks and views, and back."""
