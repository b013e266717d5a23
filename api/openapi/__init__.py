"""The published OpenAPI document, refined for the clients generated from it.

FastAPI's document is correct for the server but misleads client generators; `refine`
rewrites it, without changing what the server accepts or sends:

- readable schema names (`ReportPage`, `TokenRequest`, not `Page_Union_…`/`Body_auth-token`);
- request bodies that generators model completely: a transition is `TransitionRequest`,
  a `oneOf` of complete variants with a discriminator on `to`; an optional body is the
  object or nothing (never `null`); uploads are `format: binary`; downloads declare
  their binary media types;
- tight types: `grant_type` and the other closed sets are enums, every enum carries
  its vi/en labels (`x-enum-labels` and a table in its description);
- the response headers each operation sends, `Accept-Language` on every operation;
- OAuth2 `password` and `clientCredentials` flows (with `refreshUrl`), `security: []`
  on public operations, `servers`;
- on every error response the problem `code`s it may carry, each with an example, and
  409s that say which conflict;
- a unique summary and a description on every operation, tag descriptions.

`refine.py` does the rewriting; `tables.py` holds what it writes (tags, summaries,
descriptions, the conflicts and problem codes per operation, headers). The tables are
checked by tests/routers/test_openapi_document.py: a new operation without a summary or
description fails there.
"""

from api.openapi.refine import refine
from api.openapi.tables import SUMMARIES, TAGS

__all__ = ["SUMMARIES", "TAGS", "refine"]
