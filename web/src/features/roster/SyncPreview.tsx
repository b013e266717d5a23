import { Alert, App, Button, Checkbox, Select, Tag } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { ApiError } from "../../api";
import { EnumTag } from "../../components/EnumTag";
import { LoadMore } from "../../components/LoadMore";
import { PageState } from "../../components/PageState";
import { Panel, PlainList } from "../../components/Panel";
import { ProblemAlert } from "../../components/ProblemAlert";
import { useEnumLabel, useEnumOptions } from "../../i18n/enums";
import { formatDateTime } from "../../lib/format";
import { type Counts, diffLines, effectiveCounts, guardsFor } from "./diff";
import { type RowAction, type Sync, useApply, useChanges, useSync, useUnitChanges } from "./queries";

/** The counts' keys and the row actions they count. */
const COUNT_ACTION: Record<keyof Counts, RowAction> = {
  created: "create", updated: "update", moved: "move", reactivated: "reactivate",
  deactivated: "deactivate", unchanged: "unchanged", rejected: "rejected",
};

export function SyncPreview(props: { id: string; file: File | null; onRepreview: (file: File) => void }) {
  const { t } = useTranslation();
  const sync = useSync(props.id);
  return (
    <PageState loading={sync.isPending} error={sync.error}>
      {sync.data && <Loaded sync={sync.data} file={props.file} onRepreview={props.onRepreview} key={sync.data.id} />}
      {!sync.data && !sync.isPending && <p>{t("app.notFound")}</p>}
    </PageState>
  );
}

function Loaded({ sync, file, onRepreview }: { sync: Sync; file: File | null; onRepreview: (file: File) => void }) {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const actionOptions = useEnumOptions("row_action");
  const { modal } = App.useApp();
  const [action, setAction] = useState<RowAction | undefined>();
  const [skipRejected, setSkipRejected] = useState(false);
  const [allowMass, setAllowMass] = useState(false);
  const apply = useApply(sync.id);
  const guards = guardsFor(sync);
  const counts = sync.counts as Counts;
  const unitTotal = Object.values(sync.unit_counts).reduce((a, b) => a + b, 0);
  const moved = apply.error instanceof ApiError && apply.error.code === "roster_changed";
  const ready = (!guards.skipRejected || skipRejected) && (!guards.massDeactivation || allowMass);

  const confirmApply = () => {
    const changes = effectiveCounts(counts);
    modal.confirm({
      title: t("sync.confirmTitle"),
      content: (
        <div data-testid="apply-summary">
          {changes.length === 0 ? (
            <p>{t("sync.nothingToApply")}</p>
          ) : (
            <ul>
              {changes.map((c) => (
                <li key={c.action}>{t("sync.willDo", { action: label("row_action", COUNT_ACTION[c.action]), count: c.count })}</li>
              ))}
            </ul>
          )}
          {guards.skipRejected && <p>{t("sync.willSkip", { count: counts.rejected })}</p>}
          {guards.massDeactivation && <p>{t("sync.willDeactivate", { count: counts.deactivated, total: sync.scope_members })}</p>}
        </div>
      ),
      okText: t("sync.apply"),
      cancelText: t("admin.cancel"),
      onOk: () =>
        apply.mutateAsync({ skip_rejected: skipRejected, allow_mass_deactivation: allowMass }).catch(() => undefined),
    });
  };

  return (
    <div className="stack">
      <Panel title={t("sync.summary")} extra={<EnumTag name="sync_status" code={sync.status} />} testId="sync-summary">
        <p className="muted">
          {t("sync.summaryLine", {
            date: formatDateTime(sync.created_at),
            mode: t(`sync.${sync.mode}`),
            scope: sync.scope_unit_code ?? "—",
            rows: sync.rows_total,
            source: label("sync_source", sync.source),
          })}
        </p>
        <table className="grid" style={{ maxWidth: 420 }} data-testid="sync-counts">
          <tbody>
            {(Object.keys(COUNT_ACTION) as (keyof Counts)[]).map((k) => (
              <tr key={k}>
                <th scope="row">{label("row_action", COUNT_ACTION[k])}</th>
                <td data-testid={`count-${k}`}>{counts[k]}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {sync.ignored_columns.length > 0 && (
          <p className="muted">{t("sync.ignoredColumns", { columns: sync.ignored_columns.join(", ") })}</p>
        )}
        {sync.failure_detail && <Alert type="error" showIcon message={sync.failure_detail} />}
      </Panel>

      {counts.rejected > 0 && (
        <Panel title={t("sync.rejectedRows", { count: counts.rejected })} testId="rejected-rows">
          <PlainList
            items={sync.errors}
            empty=""
            keyOf={(e) => `${e.kind}:${e.row}:${e.field ?? ""}:${e.code}`}
            render={(e) => (
              <div className="item-main">
                <strong>{t("sync.rowNo", { row: e.row })}</strong>
                {e.external_id ? ` · ${e.external_id}` : ""}
                {" · "}
                {e.detail ?? e.code}
                {e.field ? <span className="muted"> ({e.field})</span> : null}
              </div>
            )}
          />
          {sync.errors_truncated && <p className="muted">{t("sync.errorsTruncated")}</p>}
        </Panel>
      )}

      {unitTotal > 0 && <UnitChanges id={sync.id} />}

      <Panel
        title={t("sync.diff")}
        extra={
          <Select
            allowClear
            size="small"
            style={{ minWidth: 180 }}
            placeholder={t("sync.allActions")}
            aria-label={t("sync.filterAction")}
            value={action}
            onChange={(v: RowAction | undefined) => setAction(v)}
            options={actionOptions}
          />
        }
      >
        <Changes id={sync.id} action={action} />
      </Panel>

      {sync.status === "previewed" && (
        <Panel title={t("sync.applyTitle")} testId="apply-panel">
          <div className="stack" style={{ gap: 8 }}>
            {guards.skipRejected && (
              <Checkbox checked={skipRejected} onChange={(e) => setSkipRejected(e.target.checked)}>
                {t("sync.confirmSkip", { count: counts.rejected })}
              </Checkbox>
            )}
            {guards.massDeactivation && (
              <Checkbox checked={allowMass} onChange={(e) => setAllowMass(e.target.checked)}>
                {t("sync.confirmMass", { count: counts.deactivated, total: sync.scope_members })}
              </Checkbox>
            )}
            {moved ? (
              <Alert
                type="warning"
                showIcon
                role="alert"
                message={t("sync.rosterChanged")}
                description={file ? t("sync.rosterChangedRetry") : t("sync.rosterChangedUpload")}
                action={
                  file ? (
                    <Button onClick={() => onRepreview(file)}>{t("sync.newPreview")}</Button>
                  ) : undefined
                }
              />
            ) : (
              <ProblemAlert error={apply.error} />
            )}
            <div>
              <Button type="primary" disabled={!ready || moved} loading={apply.isPending} onClick={confirmApply}>
                {t("sync.apply")}
              </Button>
            </div>
          </div>
        </Panel>
      )}
      {sync.status === "applied" && (
        <Alert type="success" showIcon role="status" message={t("sync.applied", { date: formatDateTime(sync.applied_at) })} />
      )}
    </div>
  );
}

function Changes({ id, action }: { id: string; action: RowAction | undefined }) {
  const { t } = useTranslation();
  const changes = useChanges(id, action);
  const items = changes.data?.pages.flatMap((p) => p.items) ?? [];
  const words = { empty: t("sync.empty"), yes: t("sync.yes"), no: t("sync.no") };
  return (
    <PageState loading={changes.isPending} error={changes.error}>
      <PlainList
        items={items}
        empty={t("sync.noChanges")}
        keyOf={(c) => `${c.row}:${c.external_id ?? ""}:${c.action}`}
        render={(c) => (
          <div className="item-main" data-testid="change-item">
            <div>
              <EnumTag name="row_action" code={c.action} />
              <strong>{c.full_name ?? c.external_id ?? "—"}</strong>
              <span className="muted">
                {" "}
                {c.external_id ?? ""}
                {c.row > 0 ? ` · ${t("sync.rowNo", { row: c.row })}` : ""}
              </span>
            </div>
            {c.error && <div className="field-error">{c.error.detail ?? c.error.code}</div>}
            {diffLines(c.changes, words).map((l) => (
              <div key={l.field} className="diff-line">
                {l.added && c.action === "create"
                  ? t("sync.lineAdded", { field: t(`sync.fields.${l.field}`, { defaultValue: l.field }), after: l.after })
                  : t("sync.lineChanged", { field: t(`sync.fields.${l.field}`, { defaultValue: l.field }), before: l.before, after: l.after })}
              </div>
            ))}
          </div>
        )}
      />
      <LoadMore hasNext={changes.hasNextPage} loading={changes.isFetchingNextPage} onClick={() => void changes.fetchNextPage()} />
    </PageState>
  );
}

function UnitChanges({ id }: { id: string }) {
  const { t } = useTranslation();
  const changes = useUnitChanges(id);
  const items = changes.data?.pages.flatMap((p) => p.items) ?? [];
  const words = { empty: t("sync.empty"), yes: t("sync.yes"), no: t("sync.no") };
  return (
    <Panel title={t("sync.unitChanges")} testId="unit-changes">
      <PageState loading={changes.isPending} error={changes.error}>
        <PlainList
          items={items}
          empty={t("sync.noChanges")}
          keyOf={(c) => `${c.row}:${c.code ?? ""}`}
          render={(c) => (
            <div className="item-main">
              <div>
                <EnumTag name="unit_action" code={c.action} />
                <strong>{c.code}</strong> {c.name}
                {c.parent_code ? <Tag style={{ marginLeft: 8 }}>{t("sync.parent", { code: c.parent_code })}</Tag> : null}
              </div>
              {c.error && <div className="field-error">{c.error.detail ?? c.error.code}</div>}
              {diffLines(c.changes, words).map((l) => (
                <div key={l.field} className="diff-line">
                  {t("sync.lineChanged", { field: l.field, before: l.before, after: l.after })}
                </div>
              ))}
            </div>
          )}
        />
        <LoadMore hasNext={changes.hasNextPage} loading={changes.isFetchingNextPage} onClick={() => void changes.fetchNextPage()} />
      </PageState>
    </Panel>
  );
}
