"""Local stand-ins for the services pacsbot talks to; only the CLI and the tests import this package."""
