import { InboxOutlined } from "@ant-design/icons";
import { Alert, Button, Progress, Radio, Space } from "antd";
import { useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";

import { EnumTag } from "../../components/EnumTag";
import { LoadMore } from "../../components/LoadMore";
import { PageState } from "../../components/PageState";
import { Panel, PlainList } from "../../components/Panel";
import { ProblemAlert } from "../../components/ProblemAlert";
import { UnitSelect, type UnitOption } from "../../components/UnitSelect";
import { formatDateTime } from "../../lib/format";
import { contentTypeFor } from "./diff";
import { type Mode, previewFile, useSyncs } from "./queries";
import { SyncPreview } from "./SyncPreview";

const MAX_BYTES = 50 * 1024 * 1024; // the API's limit for roster bodies; a courtesy check

/** Roster sync: drop a CSV/XLSX/NDJSON file, preview the diff, confirm the guards, apply;
 * and the history of syncs. `?sync=<id>` shows one sync. */
export default function RosterPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const syncId = params.get("sync");
  const [mode, setMode] = useState<Mode>("upsert");
  const [scope, setScope] = useState<UnitOption | undefined>();
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [localError, setLocalError] = useState<string | null>(null);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const syncs = useSyncs();
  const history = syncs.data?.pages.flatMap((p) => p.items) ?? [];

  const choose = (f: File | undefined) => {
    setError(null);
    setLocalError(null);
    if (!f) return;
    if (!contentTypeFor(f.name)) return setLocalError(t("sync.badType", { name: f.name }));
    if (f.size > MAX_BYTES) return setLocalError(t("sync.tooBig", { name: f.name }));
    setFile(f);
  };

  /** Preview `f` (the chosen file, or the same file again after the roster moved). */
  const preview = async (f: File | null = file) => {
    if (!f) return;
    const contentType = contentTypeFor(f.name);
    if (!contentType) return;
    setError(null);
    setProgress(0);
    try {
      const sync = await previewFile({ file: f, contentType, mode, scopeUnitCode: scope?.code, onProgress: setProgress });
      setParams({ sync: sync.id });
      void syncs.refetch();
    } catch (err) {
      setError(err);
    } finally {
      setProgress(null);
    }
  };

  return (
    <div className="stack wide">
      <h1>{t("sync.title")}</h1>
      {syncId ? (
        <>
          <div>
            <Button onClick={() => setParams({})}>{t("sync.backToUpload")}</Button>
          </div>
          <SyncPreview
            id={syncId}
            file={file}
            onRepreview={(f) => {
              setParams({});
              void preview(f);
            }}
          />
        </>
      ) : (
        <Panel title={t("sync.upload")}>
          <div className="stack">
            <Radio.Group
              value={mode}
              onChange={(e) => setMode(e.target.value as Mode)}
              aria-label={t("sync.mode")}
              options={[
                { value: "upsert", label: t("sync.upsert") },
                { value: "snapshot", label: t("sync.snapshot") },
              ]}
            />
            <p className="muted">{mode === "snapshot" ? t("sync.snapshotHelp") : t("sync.upsertHelp")}</p>
            <label className="field">
              <span style={{ display: "block", marginBottom: 4, fontWeight: 500 }}>
                {mode === "snapshot" ? t("sync.scopeRequired") : t("sync.scopeOptional")}
              </span>
              <UnitSelect aria-label={t("sync.scope")} value={scope?.id} onPick={setScope} />
            </label>
            <div
              className={over ? "dropzone over" : "dropzone"}
              role="button"
              tabIndex={0}
              aria-label={t("sync.drop")}
              data-testid="dropzone"
              onClick={() => input.current?.click()}
              onKeyDown={(e) => {
                if (e.key === "Enter" || e.key === " ") {
                  e.preventDefault();
                  input.current?.click();
                }
              }}
              onDragOver={(e) => {
                e.preventDefault();
                setOver(true);
              }}
              onDragLeave={() => setOver(false)}
              onDrop={(e) => {
                e.preventDefault();
                setOver(false);
                choose(e.dataTransfer.files[0]);
              }}
            >
              <InboxOutlined style={{ fontSize: 32 }} aria-hidden />
              <p>{t("sync.drop")}</p>
              <p className="muted">{t("sync.formats")}</p>
              {file && <p data-testid="chosen-file">{t("sync.chosen", { name: file.name })}</p>}
            </div>
            <input
              ref={input}
              type="file"
              accept=".csv,.xlsx,.ndjson,.jsonl"
              hidden
              data-testid="file-input"
              onChange={(e) => {
                choose(e.target.files?.[0]);
                e.target.value = "";
              }}
            />
            {localError && <Alert type="error" showIcon message={localError} role="alert" />}
            <ProblemAlert error={error} />
            {progress !== null && <Progress percent={Math.round(progress * 100)} aria-label={t("sync.uploading")} />}
            <Space>
              <Button
                type="primary"
                disabled={!file || (mode === "snapshot" && !scope)}
                loading={progress !== null}
                onClick={() => void preview()}
              >
                {t("sync.preview")}
              </Button>
            </Space>
          </div>
        </Panel>
      )}
      <Panel title={t("sync.history")}>
        <PageState loading={syncs.isPending} error={syncs.error}>
          <PlainList
            items={history}
            empty={t("sync.noHistory")}
            keyOf={(s) => s.id}
            render={(s) => (
              <>
                <div className="item-main" data-testid="sync-item">
                  <Link to={`?sync=${s.id}`} className="item-title">
                    {t("sync.historyItem", { date: formatDateTime(s.created_at), mode: t(`sync.${s.mode}`), scope: s.scope_unit_code ?? "—" })}
                  </Link>
                  <div className="muted">
                    {t("sync.countsLine", { ...s.counts, total: s.rows_total })}
                    {s.applied_at ? ` · ${t("sync.appliedAt", { date: formatDateTime(s.applied_at) })}` : ""}
                  </div>
                </div>
                <EnumTag name="sync_status" code={s.status} />
              </>
            )}
          />
          <LoadMore hasNext={syncs.hasNextPage} loading={syncs.isFetchingNextPage} onClick={() => void syncs.fetchNextPage()} />
        </PageState>
      </Panel>
    </div>
  );
}
