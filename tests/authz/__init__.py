"""The generated authorization matrix (issue 8): every route of `app.routes` × every role
× every object position, each with the exact status the permission table in
`tests/authz/table.py` derives from `api.services.authz.ROLE_ACTIONS` and SPEC §3–§5."""
