import { App, Button, Input, Modal, Select, Space } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { ApiError } from "../../api";
import { LoadMore } from "../../components/LoadMore";
import { PageState } from "../../components/PageState";
import { Panel, PlainList } from "../../components/Panel";
import { ProblemAlert } from "../../components/ProblemAlert";
import { UnitPicker } from "../../components/UnitPicker";
import { useEnumLabel, useEnumOptions } from "../../i18n/enums";
import { formatDateTime } from "../../lib/format";
import { usePrincipal } from "../../lib/me";
import { type Account, type QueueFilters, useDecide, useMemberName, usePendingAccounts } from "./queries";

function MemberName({ id }: { id: string }) {
  const name = useMemberName(id);
  return <Link to={`/workspace/members/${id}`}>{name.data ?? "…"}</Link>;
}

interface Deciding {
  account: Account;
  verdict: "verify" | "reject";
}

function DecisionDialog({ deciding, onClose }: { deciding: Deciding | null; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const decide = useDecide();
  const [note, setNote] = useState("");
  const [error, setError] = useState<unknown>(null);
  const close = () => {
    setNote("");
    setError(null);
    decide.reset();
    onClose();
  };
  if (!deciding) return null;
  const reject = deciding.verdict === "reject";
  const submit = () => {
    setError(null);
    decide.mutate(
      { account: deciding.account, verdict: deciding.verdict, note: note.trim() },
      {
        onSuccess: () => {
          void message.success(reject ? t("review.rejected") : t("review.verified"));
          close();
        },
        onError: (err) => {
          if (err instanceof ApiError && err.isStale) return close(); // the app's 412 dialog explains
          setError(err);
        },
      },
    );
  };
  return (
    <Modal
      open
      title={reject ? t("review.rejectTitle") : t("review.verifyTitle")}
      okText={reject ? t("review.reject") : t("review.verify")}
      okButtonProps={{ danger: reject, disabled: reject && !note.trim(), loading: decide.isPending }}
      cancelText={t("app.cancel")}
      onOk={submit}
      onCancel={close}
    >
      <p className="break">{deciding.account.canonical_url}</p>
      <ProblemAlert error={error} />
      <label htmlFor="review-note" className="field">
        {reject ? t("review.noteRequired") : t("review.noteOptional")}
      </label>
      <Input.TextArea id="review-note" rows={3} maxLength={2000} value={note} onChange={(e) => setNote(e.target.value)} />
    </Modal>
  );
}

export default function ReviewPage() {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const platforms = useEnumOptions("platform");
  const me = usePrincipal().data;
  const [filters, setFilters] = useState<QueueFilters>({});
  const queue = usePendingAccounts(filters);
  const items = queue.data?.pages.flatMap((p) => p.items) ?? [];
  const [deciding, setDeciding] = useState<Deciding | null>(null);
  return (
    <div className="stack">
      <h1>{t("review.title")}</h1>
      <div className="filters" role="search">
        <Input.Search
          aria-label={t("review.search")}
          placeholder={t("review.search")}
          allowClear
          onSearch={(v) => setFilters((f) => ({ ...f, q: v.trim() || undefined }))}
          style={{ width: 260 }}
        />
        <Select
          aria-label={t("review.platform")}
          placeholder={t("review.platform")}
          allowClear
          options={platforms}
          value={filters.platform}
          onChange={(v) => setFilters((f) => ({ ...f, platform: v }))}
          style={{ width: 170 }}
        />
        <UnitPicker aria-label={t("units.pick")} value={filters.unit_id} onChange={(v) => setFilters((f) => ({ ...f, unit_id: v }))} />
      </div>
      <Panel title={t("review.queue")} testId="review-queue">
        <PageState loading={queue.isPending} error={queue.error}>
          <PlainList
            items={items}
            empty={t("review.none")}
            keyOf={(a) => a.id}
            render={(a) => {
              const own = !!me?.member_id && me.member_id === a.member_id;
              return (
                <div className="review-item" data-testid="review-item">
                  <div className="item-main">
                    <div className="item-title">
                      <a href={a.canonical_url} target="_blank" rel="noopener noreferrer">
                        {a.display_name || a.canonical_url}
                      </a>
                    </div>
                    <div className="muted break">{a.canonical_url}</div>
                    <div className="muted">
                      <MemberName id={a.member_id} /> · {label("platform", a.platform)} · {label("account_kind", a.kind)} ·{" "}
                      {label("account_purpose", a.purpose)} · {formatDateTime(a.created_at)}
                    </div>
                  </div>
                  {own ? (
                    <span className="muted">{t("review.own")}</span>
                  ) : (
                    <Space wrap>
                      <Button type="primary" onClick={() => setDeciding({ account: a, verdict: "verify" })}>
                        {t("review.verify")}
                      </Button>
                      <Button danger onClick={() => setDeciding({ account: a, verdict: "reject" })}>
                        {t("review.reject")}
                      </Button>
                    </Space>
                  )}
                </div>
              );
            }}
          />
          <LoadMore hasNext={!!queue.hasNextPage} loading={queue.isFetchingNextPage} onClick={() => void queue.fetchNextPage()} />
        </PageState>
      </Panel>
      <DecisionDialog deciding={deciding} onClose={() => setDeciding(null)} />
    </div>
  );
}
