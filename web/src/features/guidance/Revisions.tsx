import { Collapse } from "antd";
import Markdown from "react-markdown";
import { useTranslation } from "react-i18next";

import { LoadMore } from "../../components/LoadMore";
import { PageState } from "../../components/PageState";
import { Panel } from "../../components/Panel";
import { formatDateTime } from "../../lib/format";
import { useRevisions } from "./queries";

/** The published revisions, newest first as the server lists them; each can be opened. */
export function Revisions({ id }: { id: string }) {
  const { t } = useTranslation();
  const revisions = useRevisions(id);
  const items = revisions.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Panel title={t("docsAdmin.revisions")} testId="revisions">
      <PageState loading={revisions.isPending} error={revisions.error}>
        {items.length === 0 ? (
          <p className="empty">{t("docsAdmin.noRevisions")}</p>
        ) : (
          <Collapse
            items={items.map((r) => ({
              key: String(r.revision),
              label: t("docsAdmin.revisionItem", { revision: r.revision, date: formatDateTime(r.created_at), title: r.title }),
              children: (
                <div className="markdown">
                  {r.summary && <p className="muted">{r.summary}</p>}
                  {r.body ? <Markdown skipHtml>{r.body}</Markdown> : <p className="empty">{t("docsAdmin.emptyBody")}</p>}
                  {r.file && <p className="muted">{t("docsAdmin.revisionFile", { name: r.file.filename })}</p>}
                </div>
              ),
            }))}
          />
        )}
        <LoadMore hasNext={revisions.hasNextPage} loading={revisions.isFetchingNextPage} onClick={() => void revisions.fetchNextPage()} />
      </PageState>
    </Panel>
  );
}
