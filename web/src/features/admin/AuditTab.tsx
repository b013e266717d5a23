import { Button, DatePicker, Form, Input } from "antd";
import type { Dayjs } from "dayjs";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { LoadMore } from "../../components/LoadMore";
import { PageState } from "../../components/PageState";
import { Panel } from "../../components/Panel";
import { formatDateTime } from "../../lib/format";
import { type AuditQuery, useAuditEvents } from "./queries";

interface Filters {
  action?: string;
  entity_type?: string;
  entity_id?: string;
  actor_id?: string;
  range?: [Dayjs | null, Dayjs | null] | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The filters as the API's query: empty fields dropped, days as Vietnam-time bounds. */
export function auditQuery(f: Filters): AuditQuery {
  const q: AuditQuery = {};
  if (f.action?.trim()) q.action = f.action.trim();
  if (f.entity_type?.trim()) q.entity_type = f.entity_type.trim();
  if (f.entity_id?.trim()) q.entity_id = f.entity_id.trim();
  if (f.actor_id?.trim()) q.actor_id = f.actor_id.trim();
  const [from, to] = f.range ?? [];
  if (from) q.from = `${from.format("YYYY-MM-DD")}T00:00:00+07:00`;
  if (to) q.to = `${to.add(1, "day").format("YYYY-MM-DD")}T00:00:00+07:00`;
  return q;
}

export function AuditTab() {
  const { t } = useTranslation();
  const [form] = Form.useForm<Filters>();
  const [query, setQuery] = useState<AuditQuery>({});
  const events = useAuditEvents(query);
  const items = events.data?.pages.flatMap((p) => p.items) ?? [];
  const uuidRule = { pattern: UUID, message: t("admin.badId") };
  return (
    <div className="stack">
      <Panel title={t("admin.auditFilters")}>
        <Form form={form} layout="inline" onFinish={(v) => setQuery(auditQuery(v))} style={{ rowGap: 8 }}>
          <Form.Item name="action" label={t("admin.action")}>
            <Input placeholder="document.publish" allowClear />
          </Form.Item>
          <Form.Item name="entity_type" label={t("admin.entityType")}>
            <Input placeholder="document" allowClear />
          </Form.Item>
          <Form.Item name="entity_id" label={t("admin.entityId")} rules={[uuidRule]}>
            <Input allowClear />
          </Form.Item>
          <Form.Item name="actor_id" label={t("admin.actorId")} rules={[uuidRule]}>
            <Input allowClear />
          </Form.Item>
          <Form.Item name="range" label={t("admin.period")}>
            <DatePicker.RangePicker format="DD/MM/YYYY" />
          </Form.Item>
          <Button type="primary" htmlType="submit">
            {t("admin.filter")}
          </Button>
        </Form>
      </Panel>
      <Panel title={t("admin.audit")}>
        <PageState loading={events.isPending} error={events.error}>
          {items.length === 0 ? (
            <p className="empty">{t("admin.noEvents")}</p>
          ) : (
            <div className="table-scroll" tabIndex={0}>
              <table className="grid" data-testid="audit-table">
                <thead>
                  <tr>
                    <th scope="col">{t("admin.at")}</th>
                    <th scope="col">{t("admin.actor")}</th>
                    <th scope="col">{t("admin.action")}</th>
                    <th scope="col">{t("admin.entity")}</th>
                    <th scope="col">{t("admin.changes")}</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((e) => (
                    <tr key={e.id} data-testid="audit-row">
                      <td style={{ whiteSpace: "nowrap" }}>{formatDateTime(e.at)}</td>
                      <td className="break">
                        {e.actor_type}
                        {e.actor_id ? ` ${e.actor_id}` : ""}
                      </td>
                      <td>{e.action}</td>
                      <td className="break">
                        {e.entity_type}
                        {e.entity_id ? ` ${e.entity_id}` : ""}
                      </td>
                      <td className="diff-line">{JSON.stringify(e.changes)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <LoadMore hasNext={events.hasNextPage} loading={events.isFetchingNextPage} onClick={() => void events.fetchNextPage()} />
        </PageState>
      </Panel>
    </div>
  );
}
