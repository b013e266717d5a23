import { List, Space, Switch, Tag } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { EnumTag } from "../../components/EnumTag";
import { LoadMore } from "../../components/LoadMore";
import { PageState } from "../../components/PageState";
import { Panel } from "../../components/Panel";
import { useEnumLabel } from "../../i18n/enums";
import { formatDate } from "../../lib/format";
import { useDocuments } from "./queries";

export default function DocumentsPage() {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const [pendingOnly, setPendingOnly] = useState(false);
  const docs = useDocuments(pendingOnly);
  const items = docs.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div className="stack">
      <h1>{t("documents.title")}</h1>
      <label style={{ display: "flex", gap: 8, alignItems: "center" }}>
        <Switch checked={pendingOnly} onChange={setPendingOnly} aria-label={t("documents.pendingOnly")} />
        <span>{t("documents.pendingOnly")}</span>
      </label>
      <Panel title={t("documents.title")}>
        <PageState loading={docs.isPending} error={docs.error}>
          <List
            dataSource={items}
            locale={{ emptyText: t("documents.none") }}
            renderItem={(d) => (
              <List.Item data-testid="document-item">
                <div className="item-main">
                  <Link to={`/documents/${d.id}`} className="item-title">
                    {d.code} — {d.title}
                  </Link>
                  <div className="muted">{t("documents.issued", { issuer: d.issuer, date: formatDate(d.issued_on) })}</div>
                  <Space wrap style={{ marginTop: 4 }}>
                    <Tag>{label("doc_type", d.doc_type)}</Tag>
                    {d.requires_ack ? (
                      <>
                        <EnumTag name="ack_state" code={d.ack_state ?? "pending"} />
                        {d.ack_state === "done" && d.acknowledged_at ? (
                          <span className="muted">{t("documents.ackDone", { date: formatDate(d.acknowledged_at) })}</span>
                        ) : (
                          d.ack_due_at && <span className="muted">{t("documents.ackDue", { date: formatDate(d.ack_due_at) })}</span>
                        )}
                      </>
                    ) : (
                      <span className="muted">{t("documents.noAckNeeded")}</span>
                    )}
                  </Space>
                </div>
              </List.Item>
            )}
          />
          <LoadMore hasNext={docs.hasNextPage} loading={docs.isFetchingNextPage} onClick={() => void docs.fetchNextPage()} />
        </PageState>
      </Panel>
    </div>
  );
}
