import { Checkbox, Select, Tag } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { EnumTag } from "../../components/EnumTag";
import { LoadMore } from "../../components/LoadMore";
import { PageState } from "../../components/PageState";
import { Panel, PlainList } from "../../components/Panel";
import { UnitPicker } from "../../components/UnitPicker";
import { useEnumLabel, useEnumOptions } from "../../i18n/enums";
import { formatDateTime } from "../../lib/format";
import { usePrincipal } from "../../lib/me";
import { type QueueFilters, type Report, useQueue } from "./queries";

export default function QueuePage() {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const statuses = useEnumOptions("report_status");
  const categories = useEnumOptions("report_category");
  const me = usePrincipal().data;
  const [filters, setFilters] = useState<QueueFilters>({});
  const set = (patch: Partial<QueueFilters>) => setFilters((f) => ({ ...f, ...patch }));
  const queue = useQueue(filters);
  const items = queue.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div className="stack">
      <h1>{t("casework.title")}</h1>
      <div className="filters" role="search">
        <Select<Report["status"][]>
          mode="multiple"
          aria-label={t("casework.status")}
          placeholder={t("casework.status")}
          allowClear
          options={statuses}
          value={filters.status ?? []}
          onChange={(v) => set({ status: v.length ? v : undefined })}
          style={{ minWidth: 200 }}
        />
        <Select
          aria-label={t("casework.category")}
          placeholder={t("casework.category")}
          allowClear
          options={categories}
          value={filters.category}
          onChange={(v) => set({ category: v })}
          style={{ width: 220 }}
        />
        <UnitPicker aria-label={t("units.pick")} value={filters.unit_id} onChange={(v) => set({ unit_id: v })} />
        <Checkbox checked={!!filters.overdue} onChange={(e) => set({ overdue: e.target.checked || undefined })}>
          {t("casework.overdueOnly")}
        </Checkbox>
        {me?.kind === "user" && (
          <Checkbox checked={!!filters.assignee_id} onChange={(e) => set({ assignee_id: e.target.checked ? me.id : undefined })}>
            {t("casework.mineOnly")}
          </Checkbox>
        )}
      </div>
      <Panel title={t("casework.queue")} testId="case-queue">
        <PageState loading={queue.isPending} error={queue.error}>
          <PlainList
            items={items}
            empty={t("casework.none")}
            keyOf={(r) => r.id}
            render={(r) => (
              <div className={r.overdue ? "case-item overdue" : "case-item"} data-testid="case-item">
                <div className="item-main">
                  <div className="item-title">
                    <Link to={`/workspace/reports/${r.id}`}>{r.url}</Link>
                  </div>
                  <div className="muted">
                    {label("report_category", r.category)} · {label("platform", r.platform)} ·{" "}
                    {t("reports.due", { date: formatDateTime(r.due_at) })}
                  </div>
                </div>
                <span className="case-tags">
                  <EnumTag name="report_status" code={r.status} />
                  {r.overdue && <Tag color="red">{t("reports.overdue")}</Tag>}
                  {r.report_count > 1 && <Tag>{t("casework.reporters", { count: r.report_count })}</Tag>}
                  {me && r.assignee_id === me.id && <Tag color="blue">{t("casework.assignedToMe")}</Tag>}
                </span>
              </div>
            )}
          />
          <LoadMore hasNext={!!queue.hasNextPage} loading={queue.isFetchingNextPage} onClick={() => void queue.fetchNextPage()} />
        </PageState>
      </Panel>
    </div>
  );
}
