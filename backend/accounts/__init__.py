"""Accounts: users, roles, sessions, guardian links and consent."""
