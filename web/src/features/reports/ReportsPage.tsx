import { Button, List, Space, Tag } from "antd";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { EnumTag } from "../../components/EnumTag";
import { LoadMore } from "../../components/LoadMore";
import { PageState } from "../../components/PageState";
import { Panel } from "../../components/Panel";
import { useEnumLabel } from "../../i18n/enums";
import { formatDateTime } from "../../lib/format";
import { useMyReports } from "./queries";

export default function ReportsPage() {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const reports = useMyReports();
  const items = reports.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div className="stack">
      <h1>{t("reports.title")}</h1>
      <div>
        <Link to="/reports/new">
          <Button type="primary">{t("reports.new")}</Button>
        </Link>
      </div>
      <Panel title={t("reports.mine")}>
        <PageState loading={reports.isPending} error={reports.error}>
          <List
            dataSource={items}
            locale={{ emptyText: t("reports.none") }}
            renderItem={(r) => (
              <List.Item data-testid="report-item">
                <div className="item-main">
                  <Link to={`/reports/${r.id}`} className="item-title">
                    {r.url}
                  </Link>
                  <div className="muted">
                    {label("report_category", r.category)} · {t("reports.filedAt", { date: formatDateTime(r.created_at) })}
                  </div>
                </div>
                <Space wrap>
                  <EnumTag name="report_status" code={r.status} />
                  {r.overdue && <Tag color="red">{t("reports.overdue")}</Tag>}
                </Space>
              </List.Item>
            )}
          />
          <LoadMore hasNext={reports.hasNextPage} loading={reports.isFetchingNextPage} onClick={() => void reports.fetchNextPage()} />
        </PageState>
      </Panel>
    </div>
  );
}
