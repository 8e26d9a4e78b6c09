"""People: invitations, members and roles, workspace switching, the first run and setup."""
