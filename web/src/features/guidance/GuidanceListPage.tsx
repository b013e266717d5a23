import { PlusOutlined } from "@ant-design/icons";
import { Button, Input, Radio, Space, Tag } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { EnumTag } from "../../components/EnumTag";
import { LoadMore } from "../../components/LoadMore";
import { PageState } from "../../components/PageState";
import { Panel, PlainList } from "../../components/Panel";
import { useEnumLabel } from "../../i18n/enums";
import { formatDate } from "../../lib/format";
import { type DocStatus, useManagedDocuments } from "./queries";

/** Guidance documents in the manager's scope: drafts, published and archived. */
export default function GuidanceListPage() {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const [status, setStatus] = useState<DocStatus | "all">("all");
  const [q, setQ] = useState("");
  const docs = useManagedDocuments(status === "all" ? undefined : status, q);
  const items = docs.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div className="stack wide">
      <h1>{t("docsAdmin.title")}</h1>
      <div className="toolbar">
        <Link to="/workspace/documents/new">
          <Button type="primary" icon={<PlusOutlined />}>
            {t("docsAdmin.new")}
          </Button>
        </Link>
        <Radio.Group
          optionType="button"
          value={status}
          onChange={(e) => setStatus(e.target.value as DocStatus | "all")}
          aria-label={t("docsAdmin.status")}
          options={[
            { value: "all", label: t("docsAdmin.all") },
            { value: "draft", label: label("document_status", "draft") },
            { value: "published", label: label("document_status", "published") },
            { value: "archived", label: label("document_status", "archived") },
          ]}
        />
        <Input.Search allowClear placeholder={t("docsAdmin.search")} aria-label={t("docsAdmin.search")} onSearch={setQ} style={{ maxWidth: 280 }} />
      </div>
      <Panel title={t("docsAdmin.list")}>
        <PageState loading={docs.isPending} error={docs.error}>
          <PlainList
            items={items}
            empty={t("docsAdmin.none")}
            keyOf={(d) => d.id}
            render={(d) => (
              <>
                <div className="item-main" data-testid="managed-document">
                  <Link to={`/workspace/documents/${d.id}`} className="item-title">
                    {d.code} — {d.title}
                  </Link>
                  <div className="muted">
                    {t("docsAdmin.issued", { issuer: d.issuer, date: formatDate(d.issued_on) })}
                  </div>
                </div>
                <Space wrap>
                  <Tag>{label("doc_type", d.doc_type)}</Tag>
                  <EnumTag name="document_status" code={d.status} />
                </Space>
              </>
            )}
          />
          <LoadMore hasNext={docs.hasNextPage} loading={docs.isFetchingNextPage} onClick={() => void docs.fetchNextPage()} />
        </PageState>
      </Panel>
    </div>
  );
}
