import { App, Button, Descriptions, Form, Input, Modal, Select, Space, Tag, Timeline } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";

import { ApiError } from "../../api";
import { EnumTag } from "../../components/EnumTag";
import { FormSelect } from "../../components/FormSelect";
import { LoadMore } from "../../components/LoadMore";
import { PageState } from "../../components/PageState";
import { Panel, PlainList } from "../../components/Panel";
import { ProblemAlert } from "../../components/ProblemAlert";
import { useEnumLabel, useEnumOptions } from "../../i18n/enums";
import { saveBlob } from "../../lib/download";
import { formatBytes, formatDateTime } from "../../lib/format";
import { usePrincipal } from "../../lib/me";
import { useProblemMessage } from "../../lib/problems";
import {
  type Allowed,
  downloadEvidence,
  type Report,
  transitionBody,
  type TransitionValues,
  useEvidence,
  useEvidenceBlob,
  useReport,
  useTimeline,
  useTransition,
  useUpdateReport,
} from "./queries";

const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp"];

function InlineImage({ reportId, evidenceId, alt }: { reportId: string; evidenceId: string; alt: string }) {
  const blob = useEvidenceBlob(reportId, evidenceId, true);
  const [src, setSrc] = useState<string>();
  useEffect(() => {
    if (!blob.data) return;
    const url = URL.createObjectURL(blob.data);
    setSrc(url);
    return () => URL.revokeObjectURL(url);
  }, [blob.data]);
  if (blob.error) return <ProblemAlert error={blob.error} />;
  return src ? <img className="evidence-img" src={src} alt={alt} /> : null;
}

function Evidence({ report }: { report: Report }) {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const problem = useProblemMessage();
  const evidence = useEvidence(report.id);
  const items = evidence.data?.pages.flatMap((p) => p.items) ?? [];
  const download = async (id: string, filename: string) => {
    try {
      saveBlob(await downloadEvidence(report.id, id), filename);
    } catch (err) {
      void message.error(problem(err));
    }
  };
  return (
    <Panel title={t("reports.evidence")} testId="case-evidence">
      <PageState loading={evidence.isPending} error={evidence.error}>
        <PlainList
          items={items}
          empty={t("reports.noEvidence")}
          keyOf={(e) => e.id}
          render={(e) => (
            <div className="stack" style={{ width: "100%", gap: 8 }} data-testid="case-evidence-item">
              <Space wrap>
                <span className="break">
                  {e.filename} · {formatBytes(e.size, i18n.language)} · {formatDateTime(e.created_at)}
                </span>
                <Button size="small" onClick={() => void download(e.id, e.filename)}>
                  {t("reports.download")}
                </Button>
              </Space>
              {IMAGE_TYPES.includes(e.content_type) && <InlineImage reportId={report.id} evidenceId={e.id} alt={e.filename} />}
            </div>
          )}
        />
        <LoadMore hasNext={!!evidence.hasNextPage} loading={evidence.isFetchingNextPage} onClick={() => void evidence.fetchNextPage()} />
      </PageState>
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
    <Panel title={t("reports.timeline")} testId="case-timeline">
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
        <LoadMore hasNext={!!timeline.hasNextPage} loading={timeline.isFetchingNextPage} onClick={() => void timeline.fetchNextPage()} />
      </PageState>
    </Panel>
  );
}

/** The form of one listed move: a comment, plus exactly the fields the server requires. */
function TransitionDialog({ report, move, onClose }: { report: Report; move: Allowed; onClose: () => void }) {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const { message } = App.useApp();
  const outcomes = useEnumOptions("report_outcome");
  const [form] = Form.useForm<TransitionValues>();
  const transition = useTransition();
  const [error, setError] = useState<unknown>(null);
  const needs = (f: string) => move.requires.includes(f);
  const required = (field: string) => [{ required: true, whitespace: true, message: t("casework.required", { field }) }];
  const submit = (values: TransitionValues) => {
    setError(null);
    transition.mutate(
      { report, body: transitionBody(move, values) },
      {
        onSuccess: () => {
          void message.success(t("casework.moved", { to: label("report_status", move.to) }));
          onClose();
        },
        onError: (err) => {
          if (err instanceof ApiError && err.isStale) return onClose(); // the app's 412 dialog explains
          setError(err);
        },
      },
    );
  };
  return (
    <Modal
      open
      title={t("casework.moveTo", { to: label("report_status", move.to) })}
      okText={t("casework.confirm")}
      cancelText={t("app.cancel")}
      okButtonProps={{ loading: transition.isPending }}
      onOk={() => form.submit()}
      onCancel={onClose}
    >
      <ProblemAlert error={error} />
      <Form<TransitionValues> form={form} layout="vertical" onFinish={submit} data-testid="transition-form">
        {needs("outcome") && (
          <Form.Item name="outcome" label={t("casework.outcome")} rules={required(t("casework.outcome"))}>
            <FormSelect options={outcomes} />
          </Form.Item>
        )}
        {needs("authority") && (
          <Form.Item name="authority" label={t("casework.authority")} rules={required(t("casework.authority"))}>
            <Input maxLength={200} />
          </Form.Item>
        )}
        {needs("reference") && (
          <Form.Item name="reference" label={t("casework.reference")} rules={required(t("casework.reference"))}>
            <Input maxLength={200} />
          </Form.Item>
        )}
        <Form.Item name="comment" label={t("casework.comment")}>
          <Input.TextArea rows={3} maxLength={2000} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

function Handling({ report }: { report: Report }) {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const priorities = useEnumOptions("priority");
  const me = usePrincipal().data;
  const update = useUpdateReport();
  const [move, setMove] = useState<Allowed | null>(null);
  const mine = !!me && report.assignee_id === me.id;
  return (
    <Panel title={t("casework.handling")} testId="case-handling">
      <div className="stack" style={{ gap: 12 }}>
        <div>
          <div className="muted">{t("casework.moves")}</div>
          {report.allowed_transitions.length === 0 ? (
            <p className="empty">{t("casework.noMoves")}</p>
          ) : (
            <Space wrap>
              {report.allowed_transitions.map((m) => (
                <Button key={m.to} type={m.to === "dismissed" ? "default" : "primary"} danger={m.to === "dismissed"} onClick={() => setMove(m)}>
                  {t("casework.moveTo", { to: label("report_status", m.to) })}
                </Button>
              ))}
            </Space>
          )}
        </div>
        <div>
          <div className="muted">{t("casework.assignee")}</div>
          <Space wrap>
            <span data-testid="assignee">
              {report.assignee_id ? (mine ? t("casework.assignedToMe") : t("casework.assignedToOther")) : t("casework.unassigned")}
            </span>
            {me?.kind === "user" && !mine && (
              <Button size="small" loading={update.isPending} onClick={() => update.mutate({ report, changes: { assignee_id: me.id } })}>
                {t("casework.assignMe")}
              </Button>
            )}
            {report.assignee_id && (
              <Button size="small" loading={update.isPending} onClick={() => update.mutate({ report, changes: { assignee_id: null } })}>
                {t("casework.unassign")}
              </Button>
            )}
          </Space>
        </div>
        <div>
          <label className="muted" htmlFor="case-priority">
            {t("casework.priority")}
          </label>
          <div>
            <Select
              id="case-priority"
              options={priorities}
              value={report.priority}
              style={{ width: 200 }}
              onChange={(v) => update.mutate({ report, changes: { priority: v } })}
            />
          </div>
        </div>
      </div>
      {move && <TransitionDialog report={report} move={move} onClose={() => setMove(null)} />}
    </Panel>
  );
}

export default function CasePage() {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const { reportId = "" } = useParams();
  const report = useReport(reportId);
  const r = report.data;
  // Shown only when the API includes it (it hides the reporter from the reported member).
  const reporter = r && "reporter_member_id" in r ? r.reporter_member_id : null;
  return (
    <div className="stack">
      <h1>{t("reports.detail")}</h1>
      <PageState loading={report.isPending} error={report.error}>
        {r && (
          <>
            <Panel title={t("reports.status")} testId="case-detail">
              <Space wrap style={{ marginBottom: 12 }}>
                <EnumTag name="report_status" code={r.status} />
                {r.overdue && <Tag color="red">{t("reports.overdue")}</Tag>}
                {r.outcome && <Tag>{label("report_outcome", r.outcome)}</Tag>}
                <Tag>{label("priority", r.priority)}</Tag>
              </Space>
              <Descriptions
                column={1}
                size="small"
                items={[
                  {
                    key: "url",
                    label: t("reports.url"),
                    children: (
                      <a className="break" href={r.canonical_url} target="_blank" rel="noopener noreferrer">
                        {r.url}
                      </a>
                    ),
                  },
                  { key: "category", label: t("reports.category"), children: label("report_category", r.category) },
                  { key: "platform", label: t("casework.platform"), children: label("platform", r.platform) },
                  { key: "action", label: t("reports.proposedAction"), children: label("proposed_action", r.proposed_action) },
                  { key: "desc", label: t("reports.description"), children: <span className="break">{r.description}</span> },
                  { key: "filed", label: t("reports.filedLabel"), children: formatDateTime(r.created_at) },
                  { key: "due", label: t("reports.dueLabel"), children: formatDateTime(r.due_at) },
                  { key: "count", label: t("reports.reporters"), children: t("reports.count", { count: r.report_count }) },
                  ...(r.duplicate_of
                    ? [{ key: "dup", label: t("casework.duplicateOf"), children: <Link to={`/workspace/reports/${r.duplicate_of}`}>{t("casework.openPrimary")}</Link> }]
                    : []),
                  ...(reporter
                    ? [{ key: "reporter", label: t("casework.reporter"), children: <Link to={`/workspace/members/${reporter}`}>{t("casework.openMember")}</Link> }]
                    : []),
                  ...(r.subject_member_id
                    ? [{ key: "subject", label: t("casework.subject"), children: <Link to={`/workspace/members/${r.subject_member_id}`}>{t("casework.openMember")}</Link> }]
                    : []),
                  ...(r.authority ? [{ key: "authority", label: t("casework.authority"), children: r.authority }] : []),
                  ...(r.reference ? [{ key: "reference", label: t("casework.reference"), children: r.reference }] : []),
                ]}
              />
            </Panel>
            <Handling report={r} />
            <Evidence report={r} />
            <TimelinePanel reportId={r.id} />
          </>
        )}
      </PageState>
    </div>
  );
}
