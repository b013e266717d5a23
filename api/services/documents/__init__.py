"""Guidance documents and their acknowledgements (quán triệt).

Decisions (README "Guidance documents" bullet):

- **Who sees what.** A manager (Action.DOCUMENT_MANAGE) sees every document whose
  audience unit lies in their scope, drafts included, and may edit it; they also see (read
  only: 403 on changes) the published and archived documents addressed to an *ancestor* of
  their scope, since those address their members too. A member sees the published and
  archived documents addressed to their unit or any ancestor of it (audience path IN the
  prefixes of the member unit's path: one indexed lookup). Drafts are never shown to
  members. Reviewers, partners and analysts have no document rights: the list is 403 and
  every document 404 (unless they are also a member). A user who is both manager and
  member sees the union.
- **Lists** show drafts and published documents; archived ones only with
  `status=archived`. Order: `issued_on` descending, then id (keyset).
- **Revisions.** Content = title, summary, body, attached file. A draft is edited in
  place (revision 1). Publishing stores revision 1 in `document_revisions`; every later
  change of the content of a published document bumps `revision` and stores the new one,
  so members are asked again (acknowledgements are bound to a revision). Metadata (code,
  doc_type, issuer, issued_on, audience, requires_ack, ack_due_at) changes in place without
  a new revision. Archived documents are read only (409 `conflict`); publishing needs a
  body or a file (422), and a published document cannot lose both (422). Only drafts may
  be deleted (409 `conflict` otherwise); publish is draft → published and archive
  published → archived (409 `invalid_transition` otherwise).
- **Acknowledging** is for members the document is addressed to: a principal without a
  member record that can see the document gets 403; a draft or a document not addressed
  to the caller's member is 404, an archived one 409 `document_not_published`. It binds
  the current revision; repeating it (also concurrently) returns the same record (201 the
  first time, then 200). Documents with `requires_ack=false` may be acknowledged too
  ("read"), but are never `pending`.
- **Managers' acknowledgement list**: the `active` members of the audience subtree that
  lie in the caller's DOCUMENT_MANAGE scope (and in `unit_id`'s subtree when given), in
  Vietnamese name order, `done` (an acknowledgement of the current revision exists) or
  `pending` (NOT EXISTS); one keyset-paginated statement per page. (For a draft nobody
  has been asked yet, so everyone is `pending`.)
- **Files**: PDF or DOCX recognised by content, ≤ QD85_MAX_DOCUMENT_BODY bytes, stored
  content-addressed; replacing or removing the file of a published document is a content
  change (new revision), re-uploading the same bytes is not.
- **Audit**: document.create / update / publish / archive / delete / file / acknowledge,
  placed at the audience unit (acknowledgements at the member's unit). Bodies are
  recorded by SHA-256, not in full.
"""

from api.services.documents.changes import (
    acknowledge,
    archive,
    attach_file,
    create,
    delete,
    new_revision,
    publish,
    ready_for_file,
    remove_file,
    snapshot,
    update,
)
from api.services.documents.core import Visible, ack_state, get_visible, member_prefixes
from api.services.documents.queries import (
    Listed,
    list_acknowledgements,
    list_documents,
    list_revisions,
    summaries,
)

__all__ = [
    "Listed",
    "Visible",
    "ack_state",
    "acknowledge",
    "archive",
    "attach_file",
    "create",
    "delete",
    "get_visible",
    "list_acknowledgements",
    "list_documents",
    "list_revisions",
    "member_prefixes",
    "new_revision",
    "publish",
    "ready_for_file",
    "remove_file",
    "snapshot",
    "summaries",
    "update",
]
