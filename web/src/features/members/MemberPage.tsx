import { EditOutlined } from "@ant-design/icons";
import { App, Button, Descriptions, Form, Timeline } from "antd";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useParams } from "react-router";

import { ApiError } from "../../api";
import { EnumTag } from "../../components/EnumTag";
import { LoadMore } from "../../components/LoadMore";
import { PageState } from "../../components/PageState";
import { Panel, PlainList } from "../../components/Panel";
import { ProblemAlert } from "../../components/ProblemAlert";
import { useEnumLabel } from "../../i18n/enums";
import { showProblemOnForm } from "../../lib/forms";
import { formatDateTime } from "../../lib/format";
import { usePowers } from "../../lib/roles";
import { cleanValues, MemberForm, type MemberValues } from "./MemberForm";
import { changedFields, type Member, useMember, useMemberAccounts, useMemberAudit, useUpdateMember } from "./queries";

function EditMember({ member, onDone }: { member: Member; onDone: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm<MemberValues>();
  const update = useUpdateMember();
  const [error, setError] = useState<unknown>(null);
  // A newer version (after the 412 dialog's reload) refills the form from it.
  const shown = useRef(member.version);
  useEffect(() => {
    if (shown.current === member.version) return;
    shown.current = member.version;
    form.setFieldsValue(member as MemberValues);
  }, [form, member]);
  const submit = (values: MemberValues) => {
    setError(null);
    const changes = changedFields(member, cleanValues(values));
    if (Object.keys(changes).length === 0) return onDone();
    update.mutate(
      { member, changes },
      {
        onSuccess: () => {
          void message.success(t("members.saved"));
          onDone();
        },
        // A 412 opens the app's "changed by someone else" dialog, whose reload refetches
        // this member: the form then starts again from the new version (effect above).
        onError: (err) => {
          if (err instanceof ApiError && err.isStale) return;
          if (!showProblemOnForm(form, err, { duplicate_external_id: ["external_id"] })) setError(err);
        },
      },
    );
  };
  return (
    <Panel title={t("members.edit")} testId="member-edit">
      <ProblemAlert error={error} />
      <MemberForm
        form={form}
        initial={member as MemberValues}
        submitting={update.isPending}
        submitLabel={t("members.save")}
        onSubmit={submit}
        onCancel={onDone}
      />
    </Panel>
  );
}

function Accounts({ memberId }: { memberId: string }) {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const accounts = useMemberAccounts(memberId);
  const items = accounts.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Panel title={t("members.accounts")} testId="member-accounts">
      <PageState loading={accounts.isPending} error={accounts.error}>
        <PlainList
          items={items}
          empty={t("members.noAccounts")}
          keyOf={(a) => a.id}
          render={(a) => (
            <>
              <div className="item-main">
                <div className="item-title">
                  <a href={a.canonical_url} target="_blank" rel="noopener noreferrer">
                    {a.display_name || a.canonical_url}
                  </a>
                </div>
                <div className="muted break">{a.canonical_url}</div>
                <div className="muted">
                  {label("platform", a.platform)} · {label("account_kind", a.kind)} · {formatDateTime(a.created_at)}
                </div>
              </div>
              <EnumTag name="account_status" code={a.status} />
            </>
          )}
        />
        <LoadMore hasNext={!!accounts.hasNextPage} loading={accounts.isFetchingNextPage} onClick={() => void accounts.fetchNextPage()} />
      </PageState>
    </Panel>
  );
}

function AuditTrail({ memberId }: { memberId: string }) {
  const { t } = useTranslation();
  const audit = useMemberAudit(memberId, true);
  const items = audit.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Panel title={t("members.audit")} testId="member-audit">
      <PageState loading={audit.isPending} error={audit.error}>
        {items.length === 0 ? (
          <p className="empty">{t("members.noAudit")}</p>
        ) : (
          <Timeline
            items={items.map((e) => ({
              key: e.id,
              children: (
                <>
                  <div>
                    <code>{e.action}</code>
                  </div>
                  <div className="muted">{formatDateTime(e.at)}</div>
                  {Object.keys(e.changes).length > 0 && (
                    <div className="muted break">{Object.keys(e.changes).join(", ")}</div>
                  )}
                </>
              ),
            }))}
          />
        )}
        <LoadMore hasNext={!!audit.hasNextPage} loading={audit.isFetchingNextPage} onClick={() => void audit.fetchNextPage()} />
      </PageState>
    </Panel>
  );
}

export default function MemberPage() {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const { memberId = "" } = useParams();
  const member = useMember(memberId);
  const powers = usePowers();
  const [editing, setEditing] = useState(false);
  const m = member.data;
  return (
    <div className="stack">
      <h1>{m?.full_name ?? t("members.detail")}</h1>
      <PageState loading={member.isPending} error={member.error}>
        {m && (
          <>
            {editing ? (
              <EditMember member={m} onDone={() => setEditing(false)} />
            ) : (
              <Panel
                title={t("members.detail")}
                testId="member-detail"
                extra={
                  powers.manage && (
                    <Button icon={<EditOutlined />} onClick={() => setEditing(true)}>
                      {t("members.edit")}
                    </Button>
                  )
                }
              >
                <Descriptions
                  column={1}
                  size="small"
                  items={[
                    { key: "ext", label: t("members.externalId"), children: m.external_id ?? "" },
                    { key: "membership", label: t("members.membership"), children: label("membership", m.membership) },
                    { key: "status", label: t("members.status"), children: <EnumTag name="member_status" code={m.status} /> },
                    { key: "position", label: t("members.position"), children: m.position ?? "" },
                    { key: "leader", label: t("members.leader"), children: m.is_leader ? t("app.yes") : t("app.no") },
                    { key: "email", label: t("members.email"), children: <span className="break">{m.email ?? ""}</span> },
                    { key: "phone", label: t("members.phone"), children: m.phone ?? "" },
                    {
                      key: "decl",
                      label: t("members.declaration"),
                      children: (
                        <>
                          <EnumTag name="declaration" code={m.declaration} /> {m.declared_at ? formatDateTime(m.declared_at) : ""}
                        </>
                      ),
                    },
                    { key: "updated", label: t("members.updated"), children: formatDateTime(m.updated_at) },
                  ]}
                />
              </Panel>
            )}
            <Accounts memberId={m.id} />
            {powers.manage && <AuditTrail memberId={m.id} />}
          </>
        )}
      </PageState>
    </div>
  );
}
