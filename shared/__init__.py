"""Common code of the Better Work services: settings, auth, errors, database, HTTP, paging."""
