import { Alert, Button, Space, Tag } from "antd";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { ApiError } from "../../api";
import { EnumTag } from "../../components/EnumTag";
import { PageState } from "../../components/PageState";
import { Panel, PlainList } from "../../components/Panel";
import { useEnumLabel } from "../../i18n/enums";
import { formatDate, formatDateTime } from "../../lib/format";
import { useMe } from "../../lib/me";

/** The member's home: everything from GET /me, in one call. */
export function HomePage() {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const me = useMe();
  if (me.error instanceof ApiError && me.error.status === 404) {
    return <Alert type="info" showIcon message={t("errors.noMember")} />;
  }
  const data = me.data;
  return (
    <PageState loading={me.isPending} error={me.error}>
      {data && (
        <div className="stack">
          <div>
            <h1>{t("home.greeting", { name: data.full_name })}</h1>
            <span className="muted">{t("home.unit", { unit: data.unit.name })}</span>
          </div>

          <Panel title={t("home.declaration")} testId="home-declaration">
            {data.declaration === "not_declared" ? (
              <Alert
                type="warning"
                showIcon
                message={t("home.notDeclared")}
                action={
                  <Link to="/accounts">
                    <Button type="primary">{t("home.declareNow")}</Button>
                  </Link>
                }
              />
            ) : (
              <Space wrap>
                <EnumTag name="declaration" code={data.declaration} />
                <span>
                  {data.declaration === "declared_none"
                    ? t("home.declaredNone", { date: formatDate(data.declared_at) })
                    : t("home.declared", {
                        count: data.accounts.filter((a) => a.status !== "closed").length,
                        date: formatDate(data.declared_at),
                      })}
                </span>
              </Space>
            )}
          </Panel>

          <Panel title={t("home.due")} testId="home-due">
            <PlainList
              items={data.pending_documents}
              empty={t("home.nothingDue")}
              keyOf={(d) => d.id}
              render={(doc) => (
                <div className="item-main">
                  <Link to={`/documents/${doc.id}`} className="item-title">
                    {doc.code} — {doc.title}
                  </Link>
                  <div className="muted">
                    <Tag color="orange">{label("doc_type", doc.doc_type)}</Tag>
                    {doc.ack_due_at ? t("home.ackBy", { date: formatDate(doc.ack_due_at) }) : t("home.ackNoDue")}
                  </div>
                </div>
              )}
            />
          </Panel>

          <Panel title={t("home.accounts")} extra={<Link to="/accounts">{t("nav.accounts")}</Link>} testId="home-accounts">
            <PlainList
              items={data.accounts}
              empty={t("home.noAccounts")}
              keyOf={(a) => a.id}
              render={(a) => (
                <>
                  <div className="item-main">
                    <div className="item-title">{a.display_name ?? label("platform", a.platform)}</div>
                    <div className="muted break">{a.canonical_url}</div>
                  </div>
                  <span>
                    <Tag>{label("platform", a.platform)}</Tag>
                    <EnumTag name="account_status" code={a.status} />
                  </span>
                </>
              )}
            />
          </Panel>

          <Panel title={t("home.reports")} extra={<Link to="/reports/new">{t("home.newReport")}</Link>} testId="home-reports">
            <PlainList
              items={data.reports}
              empty={t("home.noReports")}
              keyOf={(r) => r.id}
              render={(r) => (
                <>
                  <div className="item-main">
                    <Link to={`/reports/${r.id}`} className="item-title">
                      {r.url}
                    </Link>
                    <div className="muted">
                      {label("report_category", r.category)} · {t("reports.filedAt", { date: formatDateTime(r.created_at) })}
                    </div>
                  </div>
                  <span>
                    <EnumTag name="report_status" code={r.status} />
                  </span>
                </>
              )}
            />
            {data.reports.length > 0 && <Link to="/reports">{t("home.allReports")}</Link>}
          </Panel>
        </div>
      )}
    </PageState>
  );
}
