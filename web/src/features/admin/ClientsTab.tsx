import { App, Button, Form, Input, Popconfirm, Space, Tag } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { FormSelect } from "../../components/FormSelect";
import { LoadMore } from "../../components/LoadMore";
import { PageState } from "../../components/PageState";
import { Panel, PlainList } from "../../components/Panel";
import { ProblemAlert } from "../../components/ProblemAlert";
import { UnitSelect } from "../../components/UnitSelect";
import { useEnumLabel } from "../../i18n/enums";
import { formatDateTime } from "../../lib/format";
import { showProblemOnForm } from "../../lib/forms";
import { useProblemMessage } from "../../lib/problems";
import { type ClientCreate, useClients, useCreateClient, useDeleteClient, useRotateClient } from "./queries";
import { SecretModal } from "./SecretModal";
import { UnitName } from "./UnitName";

export function ClientsTab() {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const { message } = App.useApp();
  const problem = useProblemMessage();
  const clients = useClients();
  const create = useCreateClient();
  const rotate = useRotateClient();
  const remove = useDeleteClient();
  const [form] = Form.useForm<ClientCreate>();
  const [formError, setFormError] = useState<unknown>(null);
  const [secret, setSecret] = useState<{ clientId: string; secret: string } | null>(null);
  const items = clients.data?.pages.flatMap((p) => p.items) ?? [];

  const submit = async (values: ClientCreate) => {
    setFormError(null);
    try {
      const created = await create.mutateAsync(values);
      form.resetFields();
      setSecret({ clientId: created.client_id, secret: created.client_secret });
    } catch (err) {
      if (!showProblemOnForm(form, err)) setFormError(err);
    }
  };

  return (
    <div className="stack">
      <Panel title={t("admin.newClient")}>
        <ProblemAlert error={formError} />
        <Form form={form} layout="vertical" onFinish={(v) => void submit(v)} requiredMark>
          <Form.Item name="name" label={t("admin.clientName")} rules={[{ required: true, message: t("admin.required") }]}>
            <Input maxLength={200} />
          </Form.Item>
          <Form.Item name="role" label={t("admin.role")} rules={[{ required: true, message: t("admin.required") }]}>
            <FormSelect options={(["partner", "analyst"] as const).map((r) => ({ value: r, label: label("role", r) }))} />
          </Form.Item>
          <Form.Item name="unit_id" label={t("admin.unit")} rules={[{ required: true, message: t("admin.required") }]}>
            <UnitSelect />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={create.isPending}>
            {t("admin.createClient")}
          </Button>
        </Form>
      </Panel>
      <Panel title={t("admin.clients")}>
        <PageState loading={clients.isPending} error={clients.error}>
          <PlainList
            items={items}
            empty={t("admin.noClients")}
            keyOf={(c) => c.id}
            render={(c) => (
              <>
                <div className="item-main" data-testid="client-item">
                  <div className="item-title">{c.name}</div>
                  <div className="muted">
                    {label("role", c.role)} · <UnitName id={c.unit_id} /> · {c.client_id}
                  </div>
                  <div className="muted">{t("admin.createdAt", { date: formatDateTime(c.created_at) })}</div>
                </div>
                <Space wrap>
                  {!c.active && <Tag>{t("admin.revoked")}</Tag>}
                  {c.active && (
                    <>
                      <Popconfirm
                        title={t("admin.rotateConfirm")}
                        okText={t("admin.rotate")}
                        cancelText={t("admin.cancel")}
                        onConfirm={async () => {
                          try {
                            const r = await rotate.mutateAsync(c.id);
                            setSecret({ clientId: r.client_id, secret: r.client_secret });
                          } catch (err) {
                            void message.error(problem(err));
                          }
                        }}
                      >
                        <Button>{t("admin.rotate")}</Button>
                      </Popconfirm>
                      <Popconfirm
                        title={t("admin.revokeConfirm")}
                        okText={t("admin.revoke")}
                        okButtonProps={{ danger: true }}
                        cancelText={t("admin.cancel")}
                        onConfirm={async () => {
                          try {
                            await remove.mutateAsync(c.id);
                          } catch (err) {
                            void message.error(problem(err));
                          }
                        }}
                      >
                        <Button danger>{t("admin.revoke")}</Button>
                      </Popconfirm>
                    </>
                  )}
                </Space>
              </>
            )}
          />
          <LoadMore hasNext={clients.hasNextPage} loading={clients.isFetchingNextPage} onClick={() => void clients.fetchNextPage()} />
        </PageState>
      </Panel>
      <SecretModal secret={secret} onClose={() => setSecret(null)} />
    </div>
  );
}
