import { DownloadOutlined } from "@ant-design/icons";
import { App, Button, Progress, Radio } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { LoadMore } from "../../components/LoadMore";
import { PageState } from "../../components/PageState";
import { Panel, PlainList } from "../../components/Panel";
import { saveBlob } from "../../lib/download";
import { formatDateTime } from "../../lib/format";
import { useProblemMessage } from "../../lib/problems";
import { type AckStateFilter, type Doc, exportAcks, useAckStats, useAcks } from "./queries";

/** Who in scope has acknowledged the current revision: the rate per child unit, the pending
 * and done lists page by page, and the figures as CSV or XLSX. */
export function AckProgress({ doc }: { doc: Doc }) {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const problem = useProblemMessage();
  const stats = useAckStats(doc.id);
  const [state, setState] = useState<AckStateFilter>("pending");
  const acks = useAcks(doc.id, state);
  const items = acks.data?.pages.flatMap((p) => p.items) ?? [];
  const rows = stats.data?.rows ?? [];
  const total = rows.find((r) => r.is_total);
  const pct = (r: number | null | undefined) =>
    r === null || r === undefined
      ? "—"
      : new Intl.NumberFormat(i18n.language === "vi" ? "vi-VN" : "en-GB", { style: "percent", maximumFractionDigits: 1 }).format(r);

  const download = async (format: "csv" | "xlsx") => {
    try {
      saveBlob(await exportAcks(doc.id, format), `xac-nhan-${doc.code.replace(/[^\w.-]+/g, "-")}.${format}`);
    } catch (err) {
      void message.error(problem(err));
    }
  };

  return (
    <Panel title={t("docsAdmin.progress")} testId="ack-progress">
      <PageState loading={stats.isPending} error={stats.error}>
        {total && (
          <div className="stack" style={{ gap: 8 }}>
            <p data-testid="ack-total" role="status">
              {t("docsAdmin.progressLine", {
                done: total.acknowledged,
                total: total.addressed,
                rate: pct(total.ack_rate),
                revision: stats.data?.revision,
              })}
            </p>
            <Progress percent={Math.round((total.ack_rate ?? 0) * 100)} aria-label={t("docsAdmin.progress")} />
            <p className="muted">{t("docsAdmin.asOf", { date: formatDateTime(stats.data?.as_of) })}</p>
            <div className="table-scroll" tabIndex={0}>
              <table className="grid">
                <thead>
                  <tr>
                    <th scope="col">{t("stats.unit")}</th>
                    <th scope="col">{t("docsAdmin.addressed")}</th>
                    <th scope="col">{t("docsAdmin.acknowledged")}</th>
                    <th scope="col">{t("docsAdmin.rate")}</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={r.unit_id ?? "total"} className={r.is_total ? "total" : undefined}>
                      <th scope="row">{r.is_total ? t("stats.total") : r.unit_name}</th>
                      <td>{r.addressed}</td>
                      <td>{r.acknowledged}</td>
                      <td>{pct(r.ack_rate)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="toolbar">
              <Button icon={<DownloadOutlined />} onClick={() => void download("csv")}>
                {t("stats.downloadCsv")}
              </Button>
              <Button icon={<DownloadOutlined />} onClick={() => void download("xlsx")}>
                {t("stats.downloadXlsx")}
              </Button>
            </div>
          </div>
        )}
      </PageState>
      <div style={{ marginTop: 16 }}>
        <Radio.Group
          optionType="button"
          value={state}
          onChange={(e) => setState(e.target.value as AckStateFilter)}
          aria-label={t("docsAdmin.listState")}
          options={[
            { value: "pending", label: t("docsAdmin.pending") },
            { value: "done", label: t("docsAdmin.done") },
          ]}
        />
      </div>
      <PageState loading={acks.isPending} error={acks.error}>
        <PlainList
          items={items}
          empty={state === "pending" ? t("docsAdmin.nonePending") : t("docsAdmin.noneDone")}
          keyOf={(a) => a.member_id}
          render={(a) => (
            <div className="item-main" data-testid={`ack-${state}`}>
              <span className="item-title">{a.full_name}</span>
              {a.acknowledged_at && <span className="muted"> · {formatDateTime(a.acknowledged_at)}</span>}
            </div>
          )}
        />
        <LoadMore hasNext={acks.hasNextPage} loading={acks.isFetchingNextPage} onClick={() => void acks.fetchNextPage()} />
      </PageState>
    </Panel>
  );
}
