import { UploadOutlined } from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Descriptions, List, Popconfirm, Progress, Space, Tag, Timeline } from "antd";
import { useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useLocation, useParams } from "react-router";

import { EnumTag } from "../../components/EnumTag";
import { LoadMore } from "../../components/LoadMore";
import { PageState } from "../../components/PageState";
import { Panel } from "../../components/Panel";
import { ProblemAlert } from "../../components/ProblemAlert";
import { useEnumLabel } from "../../i18n/enums";
import { saveBlob } from "../../lib/download";
import { formatBytes, formatDateTime } from "../../lib/format";
import { useProblemMessage } from "../../lib/problems";
import {
  downloadEvidence,
  EVIDENCE_MAX_BYTES,
  EVIDENCE_MAX_FILES,
  EVIDENCE_TYPES,
  type Report,
  uploadEvidence,
  useEvidence,
  useReport,
  useTimeline,
  useWithdrawReport,
} from "./queries";

interface Uploading {
  name: string;
  percent: number;
  error?: unknown;
}

function EvidencePanel({ report }: { report: Report }) {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const problem = useProblemMessage();
  const queryClient = useQueryClient();
  const evidence = useEvidence(report.id);
  const items = evidence.data?.pages.flatMap((p) => p.items) ?? [];
  const [uploads, setUploads] = useState<Uploading[]>([]);
  const [refusals, setRefusals] = useState<string[]>([]);
  const input = useRef<HTMLInputElement>(null);
  const maxMb = EVIDENCE_MAX_BYTES / 1_000_000;

  const choose = async (files: File[]) => {
    // Courtesy checks before sending anything; the server still decides and is shown.
    const refused: string[] = [];
    const room = EVIDENCE_MAX_FILES - items.length;
    if (files.length > room) refused.push(t("reports.tooMany", { maxFiles: EVIDENCE_MAX_FILES }));
    const accepted = files.slice(0, Math.max(0, room)).filter((f) => {
      if (f.size > EVIDENCE_MAX_BYTES) {
        refused.push(t("reports.tooBig", { name: f.name, maxMb }));
        return false;
      }
      if (f.type && !EVIDENCE_TYPES.includes(f.type)) {
        refused.push(t("reports.badType", { name: f.name }));
        return false;
      }
      return true;
    });
    setRefusals(refused);
    for (const file of accepted) {
      const update = (patch: Partial<Uploading>) =>
        setUploads((all) => all.map((u) => (u.name === file.name ? { ...u, ...patch } : u)));
      setUploads((all) => [...all.filter((u) => u.name !== file.name), { name: file.name, percent: 0 }]);
      try {
        await uploadEvidence(report.id, file, (f) => update({ percent: Math.round(f * 100) }));
        update({ percent: 100 });
        void message.success(t("reports.uploaded", { name: file.name }));
        setUploads((all) => all.filter((u) => u.name !== file.name));
        await queryClient.invalidateQueries({ queryKey: ["reports", report.id] });
      } catch (err) {
        update({ error: err });
      }
    }
  };

  const download = async (id: string, filename: string) => {
    try {
      saveBlob(await downloadEvidence(report.id, id), filename);
    } catch (err) {
      void message.error(problem(err));
    }
  };

  return (
    <Panel title={t("reports.evidence")} testId="evidence">
      <p className="muted">{t("reports.uploadHelp", { maxMb, maxFiles: EVIDENCE_MAX_FILES })}</p>
      <input
        ref={input}
        id="evidence-input"
        type="file"
        multiple
        accept={EVIDENCE_TYPES.join(",")}
        className="sr-only"
        tabIndex={-1}
        aria-hidden="true"
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          e.target.value = "";
          void choose(files);
        }}
      />
      <Button icon={<UploadOutlined />} onClick={() => input.current?.click()}>
        {t("reports.upload")}
      </Button>
      {refusals.map((r) => (
        <Alert key={r} type="warning" showIcon message={r} style={{ marginTop: 8 }} role="alert" />
      ))}
      {uploads.map((u) => (
        <div key={u.name} style={{ marginTop: 8 }} data-testid="upload-progress">
          <div>{t("reports.uploading", { name: u.name })}</div>
          <Progress percent={u.percent} status={u.error ? "exception" : u.percent === 100 ? "success" : "active"} aria-label={t("reports.uploading", { name: u.name })} />
          {u.error !== undefined && <ProblemAlert error={u.error} />}
        </div>
      ))}
      <List
        style={{ marginTop: 8 }}
        dataSource={items}
        locale={{ emptyText: t("reports.noEvidence") }}
        renderItem={(e) => (
          <List.Item
            data-testid="evidence-item"
            actions={[
              <Button key="dl" size="small" onClick={() => void download(e.id, e.filename)}>
                {t("reports.download")}
              </Button>,
            ]}
          >
            <span className="break">
              {e.filename} · {formatBytes(e.size, i18n.language)} · {formatDateTime(e.created_at)}
            </span>
          </List.Item>
        )}
      />
      <LoadMore hasNext={evidence.hasNextPage} loading={evidence.isFetchingNextPage} onClick={() => void evidence.fetchNextPage()} />
    </Panel>
  );
}

function TimelinePanel({ reportId }: { reportId: string }) {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const timeline = useTimeline(reportId);
  const items = timeline.data?.pages.flatMap((p) => p.items) ?? [];
  const describe = (e: (typeof items)[number]) => {
    if (e.kind === "transition") {
      return e.from_status
        ? t("reports.entry.transition", { from: label("report_status", e.from_status), to: label("report_status", e.to_status) })
        : t("reports.entry.transitionTo", { to: label("report_status", e.to_status) });
    }
    const known = ["filed", "duplicate_linked", "promoted", "assignment", "priority", "evidence"];
    return known.includes(e.kind) ? t(`reports.entry.${e.kind}`) : t("reports.entry.other", { kind: e.kind });
  };
  return (
    <Panel title={t("reports.timeline")} testId="timeline">
      <PageState loading={timeline.isPending} error={timeline.error}>
        {items.length === 0 ? (
          <p className="empty">{t("reports.noTimeline")}</p>
        ) : (
          <Timeline
            items={items.map((e) => ({
              key: e.id,
              children: (
                <>
                  <div>{describe(e)}</div>
                  <div className="muted">{formatDateTime(e.at)}</div>
                  {e.comment && <div className="break">{e.comment}</div>}
                </>
              ),
            }))}
          />
        )}
        <LoadMore hasNext={timeline.hasNextPage} loading={timeline.isFetchingNextPage} onClick={() => void timeline.fetchNextPage()} />
      </PageState>
    </Panel>
  );
}

function WithdrawButton({ report }: { report: Report }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const problem = useProblemMessage();
  const withdraw = useWithdrawReport();
  if (!report.allowed_transitions.some((m) => m.to === "withdrawn")) return null;
  return (
    <Popconfirm
      title={t("reports.withdrawConfirm")}
      onConfirm={() =>
        withdraw.mutate(report, {
          onSuccess: () => void message.success(t("reports.withdrawn")),
          onError: (err) => void message.error(problem(err)),
        })
      }
    >
      <Button loading={withdraw.isPending}>{t("reports.withdraw")}</Button>
    </Popconfirm>
  );
}

export default function ReportPage() {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const { reportId = "" } = useParams();
  const location = useLocation();
  const filed = (location.state as { filed?: "new" | "existing" } | null)?.filed;
  const report = useReport(reportId);
  const r = report.data;
  return (
    <div className="stack">
      <h1>{t("reports.detail")}</h1>
      <PageState loading={report.isPending} error={report.error}>
        {r && (
          <>
            {filed && (
              <Alert
                type={filed === "new" ? "success" : "info"}
                showIcon
                role="status"
                message={filed === "new" ? t("reports.filed", { date: formatDateTime(r.due_at) }) : t("reports.alreadyOpen")}
              />
            )}
            {r.duplicate_of && <Alert type="info" showIcon message={t("reports.duplicate")} />}
            <Panel title={t("reports.status")} testId="report-detail">
              <Space wrap style={{ marginBottom: 12 }}>
                <EnumTag name="report_status" code={r.status} />
                {r.overdue && <Tag color="red">{t("reports.overdue")}</Tag>}
                {r.outcome && <Tag>{label("report_outcome", r.outcome)}</Tag>}
                <WithdrawButton report={r} />
              </Space>
              <Descriptions
                column={1}
                size="small"
                items={[
                  { key: "url", label: t("reports.url"), children: <span className="break">{r.url}</span> },
                  { key: "category", label: t("reports.category"), children: label("report_category", r.category) },
                  { key: "action", label: t("reports.proposedAction"), children: label("proposed_action", r.proposed_action) },
                  { key: "desc", label: t("reports.description"), children: <span className="break">{r.description}</span> },
                  { key: "filed", label: t("reports.filedLabel"), children: formatDateTime(r.created_at) },
                  { key: "due", label: t("reports.dueLabel"), children: formatDateTime(r.due_at) },
                  ...(r.report_count > 1
                    ? [{ key: "count", label: t("reports.reporters"), children: t("reports.count", { count: r.report_count }) }]
                    : []),
                ]}
              />
            </Panel>
            <EvidencePanel report={r} />
            <TimelinePanel reportId={r.id} />
          </>
        )}
      </PageState>
    </div>
  );
}
