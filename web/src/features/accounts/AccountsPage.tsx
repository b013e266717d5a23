import { Alert, App, Button, Card, Form, Input, List, Popconfirm, Select, Space, Tag, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { EnumTag } from "../../components/EnumTag";
import { LoadMore } from "../../components/LoadMore";
import { PageState } from "../../components/PageState";
import { ProblemAlert } from "../../components/ProblemAlert";
import { useEnumLabel, useEnumOptions } from "../../i18n/enums";
import { showProblemOnForm } from "../../lib/forms";
import { useMe } from "../../lib/me";
import {
  type Account,
  type DeclareInput,
  useCloseAccount,
  useDeclareAccount,
  useDeclareNone,
  useMarkCompromised,
  useMemberAccounts,
} from "./queries";

interface DeclareValues {
  url: string;
  platform?: string;
  kind: string;
  purpose: string;
  display_name?: string;
}

function DeclareForm({ memberId }: { memberId: string }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<DeclareValues>();
  const declare = useDeclareAccount(memberId);
  const [result, setResult] = useState<{ account: Account; created: boolean } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const platforms = useEnumOptions("platform");
  const kinds = useEnumOptions("account_kind");
  const purposes = useEnumOptions("account_purpose");

  const submit = (values: DeclareValues) => {
    setError(null);
    setResult(null);
    const body = {
      url: values.url.trim(),
      kind: values.kind,
      purpose: values.purpose,
      ...(values.platform ? { platform: values.platform } : {}),
      ...(values.display_name?.trim() ? { display_name: values.display_name.trim() } : {}),
    } as DeclareInput;
    declare.mutate(body, {
      onSuccess: ({ data, response }) => {
        setResult({ account: data, created: response.status === 201 });
        form.resetFields();
      },
      onError: (err) => {
        if (!showProblemOnForm(form, err, { duplicate_account: ["url"] })) setError(err);
      },
    });
  };

  return (
    <Card title={<h2 className="card-title">{t("accounts.title")}</h2>} size="small">
      <Typography.Paragraph type="secondary">{t("accounts.intro")}</Typography.Paragraph>
      {result && (
        <Alert
          type="success"
          showIcon
          role="status"
          style={{ marginBottom: 16 }}
          message={
            <span className="break" data-testid="declared-canonical">
              {t(result.created ? "accounts.declared" : "accounts.already", { url: result.account.canonical_url })}
            </span>
          }
        />
      )}
      <ProblemAlert error={error} />
      <Form<DeclareValues>
        form={form}
        layout="vertical"
        onFinish={submit}
        initialValues={{ kind: "profile", purpose: "personal" }}
        requiredMark="optional"
      >
        <Form.Item
          label={t("accounts.url")}
          name="url"
          extra={t("accounts.urlHelp")}
          rules={[{ required: true, whitespace: true, message: t("accounts.urlRequired") }]}
        >
          <Input inputMode="url" autoCapitalize="none" autoComplete="off" />
        </Form.Item>
        <Form.Item label={t("accounts.platform")} name="platform">
          <Select allowClear placeholder={t("accounts.platformAuto")} options={platforms} />
        </Form.Item>
        <Space wrap style={{ width: "100%" }} size={16}>
          <Form.Item label={t("accounts.kind")} name="kind" style={{ minWidth: 200 }}>
            <Select options={kinds} />
          </Form.Item>
          <Form.Item label={t("accounts.purpose")} name="purpose" style={{ minWidth: 200 }}>
            <Select options={purposes} />
          </Form.Item>
        </Space>
        <Form.Item label={t("accounts.displayName")} name="display_name">
          <Input maxLength={200} />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={declare.isPending}>
          {t("accounts.submit")}
        </Button>
      </Form>
    </Card>
  );
}

function AccountItem({ account, memberId }: { account: Account; memberId: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const label = useEnumLabel();
  const close = useCloseAccount(memberId);
  const compromised = useMarkCompromised(memberId);
  const actions =
    account.status === "closed"
      ? []
      : [
          <Popconfirm
            key="close"
            title={t("accounts.closeConfirm")}
            onConfirm={() => close.mutate(account, { onSuccess: () => void message.success(t("accounts.closed")) })}
          >
            <Button size="small" loading={close.isPending}>
              {t("accounts.close")}
            </Button>
          </Popconfirm>,
          <Popconfirm
            key="compromised"
            title={t("accounts.compromisedConfirm")}
            onConfirm={() =>
              compromised.mutate(account, { onSuccess: () => void message.success(t("accounts.compromisedDone")) })
            }
          >
            <Button size="small" danger loading={compromised.isPending}>
              {t("accounts.compromised")}
            </Button>
          </Popconfirm>,
        ];
  return (
    <List.Item data-testid="account-item">
      <div style={{ width: "100%" }}>
        <Space wrap style={{ marginBottom: 4 }}>
          <strong className="break">{account.display_name ?? label("platform", account.platform)}</strong>
          <Tag>{label("platform", account.platform)}</Tag>
          <EnumTag name="account_status" code={account.status} />
        </Space>
        <div className="break">
          {t("accounts.canonical")}:{" "}
          <a href={account.canonical_url} target="_blank" rel="noopener noreferrer">
            {account.canonical_url}
          </a>
        </div>
        <Typography.Text type="secondary">
          {label("account_kind", account.kind)} · {label("account_purpose", account.purpose)}
        </Typography.Text>
        {account.review_note && <div>{t("accounts.reviewNote", { note: account.review_note })}</div>}
        {actions.length > 0 && <Space style={{ marginTop: 8 }} wrap>{actions}</Space>}
      </div>
    </List.Item>
  );
}

function DeclareNone({ memberId }: { memberId: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const none = useDeclareNone(memberId);
  return (
    <Card title={<h2 className="card-title">{t("accounts.noneTitle")}</h2>} size="small">
      <Typography.Paragraph>{t("accounts.noneBody")}</Typography.Paragraph>
      <Popconfirm
        title={t("accounts.noneConfirm")}
        onConfirm={() => none.mutate(undefined, { onSuccess: () => void message.success(t("accounts.noneDone")) })}
      >
        <Button loading={none.isPending}>{t("accounts.noneButton")}</Button>
      </Popconfirm>
    </Card>
  );
}

export default function AccountsPage() {
  const { t } = useTranslation();
  const me = useMe();
  const memberId = me.data?.id;
  const accounts = useMemberAccounts(memberId);
  const items = accounts.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <PageState loading={me.isPending} error={me.error}>
      {memberId && (
        <div className="stack">
          <Typography.Title level={1}>{t("nav.accounts")}</Typography.Title>
          <DeclareForm memberId={memberId} />
          <Card title={<h2 className="card-title">{t("accounts.list")}</h2>} size="small">
            <PageState loading={accounts.isPending} error={accounts.error}>
              <List
                dataSource={items}
                locale={{ emptyText: t("accounts.none") }}
                renderItem={(a) => <AccountItem key={a.id} account={a} memberId={memberId} />}
              />
              <LoadMore
                hasNext={accounts.hasNextPage}
                loading={accounts.isFetchingNextPage}
                onClick={() => void accounts.fetchNextPage()}
              />
            </PageState>
          </Card>
          <DeclareNone memberId={memberId} />
        </div>
      )}
    </PageState>
  );
}
