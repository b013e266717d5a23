import { DownloadOutlined } from "@ant-design/icons";
import { App, Breadcrumb, Button, Radio } from "antd";
import { type ReactNode, useState } from "react";
import { useTranslation } from "react-i18next";

import { PageState } from "../../components/PageState";
import { Panel } from "../../components/Panel";
import { useEnumLabel } from "../../i18n/enums";
import { saveBlob } from "../../lib/download";
import { formatDate, formatDateTime } from "../../lib/format";
import { useProblemMessage } from "../../lib/problems";
import { filledTotals, formatCount, formatHours, formatRate, totalsByKey } from "./chart";
import { CountLine, RateBars } from "./charts";
import { exportCompliance, type Interval, useCompliance, useReportSeries, useScopeUnit } from "./queries";

interface Step {
  id: string;
  name: string;
}

function Crumb(props: { onClick: () => void; children: ReactNode }) {
  return (
    <Button type="link" size="small" style={{ padding: 0, height: "auto" }} onClick={props.onClick}>
      {props.children}
    </Button>
  );
}

/** Compliance figures of a unit's subtree, per child unit, with drill-down, charts and
 * exports. The unit defaults to the caller's scope root (the server decides). */
export default function StatsPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { message } = App.useApp();
  const problem = useProblemMessage();
  const label = useEnumLabel();
  const [trail, setTrail] = useState<Step[]>([]);
  const [interval, setInterval] = useState<Interval>("day");
  const unitId = trail.at(-1)?.id;
  const compliance = useCompliance(unitId);
  const series = useReportSeries(unitId, interval);
  const self = useScopeUnit(unitId);
  const unitName = trail.at(-1)?.name ?? self.data?.unit_name ?? "";
  const [busy, setBusy] = useState<"csv" | "xlsx" | null>(null);

  const rows = compliance.data?.rows ?? [];
  const children = rows.filter((r) => !r.is_total);
  const total = rows.find((r) => r.is_total);
  const rate = (v: number | null) => formatRate(v, lang);

  const download = async (format: "csv" | "xlsx") => {
    setBusy(format);
    try {
      const code = self.data?.unit_code ?? "scope";
      saveBlob(await exportCompliance(unitId, format), `thong-ke-${code}.${format}`);
    } catch (err) {
      void message.error(problem(err));
    } finally {
      setBusy(null);
    }
  };

  const periods = series.data ? filledTotals(series.data.points, series.data.from, series.data.to, interval) : [];
  const byKey = totalsByKey(series.data?.points ?? []);
  const periodLabel = (iso: string) =>
    interval === "month" ? formatDate(iso).slice(3) : formatDate(iso).slice(0, 5);

  return (
    <div className="stack wide">
      <h1>{t("stats.title")}</h1>
      <Breadcrumb
        items={[
          { title: <Crumb onClick={() => setTrail([])}>{t("stats.scopeRoot")}</Crumb> },
          ...trail.map((c, i) => ({
            title:
              i === trail.length - 1 ? (
                <span aria-current="page">{c.name}</span>
              ) : (
                <Crumb onClick={() => setTrail(trail.slice(0, i + 1))}>{c.name}</Crumb>
              ),
          })),
        ]}
      />
      <PageState loading={compliance.isPending} error={compliance.error}>
        {compliance.data && (
          <>
            <p className="muted" data-testid="as-of">
              {t("stats.asOf", { unit: unitName, date: formatDateTime(compliance.data.as_of) })}
            </p>
            <div className="toolbar">
              <Button icon={<DownloadOutlined />} loading={busy === "csv"} onClick={() => void download("csv")}>
                {t("stats.downloadCsv")}
              </Button>
              <Button icon={<DownloadOutlined />} loading={busy === "xlsx"} onClick={() => void download("xlsx")}>
                {t("stats.downloadXlsx")}
              </Button>
            </div>
            <Panel title={t("stats.table")}>
              <div className="table-scroll" tabIndex={0}>
                <table className="grid" data-testid="stats-table">
                  <thead>
                    <tr>
                      <th scope="col">{t("stats.unit")}</th>
                      <th scope="col">{t("stats.members")}</th>
                      <th scope="col">{t("stats.declarationRate")}</th>
                      <th scope="col">{t("stats.accountsByPlatform")}</th>
                      <th scope="col">{t("stats.ackRate")}</th>
                      <th scope="col">{t("stats.reportsOpen")}</th>
                      <th scope="col">{t("stats.reportsOverdue")}</th>
                      <th scope="col">{t("stats.reportsResolved")}</th>
                      <th scope="col">{t("stats.medianHours")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {[...children, ...(total ? [total] : [])].map((r) => {
                      const platforms = Object.entries(r.accounts_by_platform as Record<string, number>)
                        .filter(([, n]) => n > 0)
                        .map(([p, n]) => t("stats.platformCount", { platform: label("platform", p), count: n }))
                        .join(", ");
                      return (
                        <tr key={r.unit_id ?? "total"} className={r.is_total ? "total" : undefined} data-testid="stats-row">
                          <th scope="row">
                            {r.is_total || !r.unit_id ? (
                              t("stats.total")
                            ) : (
                              <Button
                                type="link"
                                style={{ padding: 0, height: "auto", whiteSpace: "normal", textAlign: "left" }}
                                onClick={() => setTrail([...trail, { id: r.unit_id as string, name: r.unit_name }])}
                                aria-label={t("stats.drill", { unit: r.unit_name })}
                              >
                                {r.unit_name}
                              </Button>
                            )}
                          </th>
                          <td>{formatCount(r.members_active, lang)}</td>
                          <td>{rate(r.declaration_rate)}</td>
                          <td>{platforms || "—"}</td>
                          <td>{rate(r.ack_rate)}</td>
                          <td>{formatCount(r.reports_open, lang)}</td>
                          <td>{formatCount(r.reports_overdue, lang)}</td>
                          <td>{formatCount(r.reports_resolved, lang)}</td>
                          <td>{formatHours(r.median_hours_to_resolve, lang)}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            </Panel>
            <Panel title={t("stats.ratesChart")}>
              {children.length === 0 ? (
                <p className="empty">{t("stats.noChildren")}</p>
              ) : (
                <RateBars
                  title={t("stats.ratesChart")}
                  series={[t("stats.declarationRate"), t("stats.ackRate")]}
                  rows={children.map((r) => ({ label: r.unit_name, values: [r.declaration_rate, r.ack_rate] }))}
                  format={rate}
                />
              )}
            </Panel>
          </>
        )}
      </PageState>
      <Panel
        title={t("stats.seriesChart")}
        extra={
          <Radio.Group
            optionType="button"
            size="small"
            value={interval}
            onChange={(e) => setInterval(e.target.value as Interval)}
            aria-label={t("stats.interval")}
            options={(["day", "week", "month"] as const).map((v) => ({ value: v, label: t(`stats.${v}`) }))}
          />
        }
      >
        <PageState loading={series.isPending} error={series.error}>
          {series.data && (
            <>
              <CountLine
                title={t("stats.seriesChart")}
                points={periods.map((p) => ({ label: periodLabel(p.period), count: p.count }))}
                format={(n) => formatCount(n, lang)}
              />
              <p className="muted">
                {t("stats.seriesRange", {
                  from: formatDate(series.data.from),
                  to: formatDate(series.data.to),
                  count: periods.reduce((s, p) => s + p.count, 0),
                })}
              </p>
              {byKey.length > 0 && (
                <p className="muted">
                  {byKey.map((k) => t("stats.platformCount", { platform: label("report_category", k.key), count: k.count })).join(", ")}
                </p>
              )}
            </>
          )}
        </PageState>
      </Panel>
    </div>
  );
}
