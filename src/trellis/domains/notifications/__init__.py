"""Notifications: what a user should know about, shown in the UI until read."""
