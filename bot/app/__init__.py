"""Slack app wiring: settings to Bolt app, middleware, error handling, transports."""
