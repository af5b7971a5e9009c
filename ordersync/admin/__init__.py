"""The admin dashboard: the order list and editor, and the Sync page."""
