"""Accounts, roles, sessions, CSRF and API tokens."""
