import { App, Button, Form, Input, Modal, Space, Switch, Tag } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { LoadMore } from "../../components/LoadMore";
import { PageState } from "../../components/PageState";
import { Panel, PlainList } from "../../components/Panel";
import { ProblemAlert } from "../../components/ProblemAlert";
import { useEnumLabel } from "../../i18n/enums";
import { showProblemOnForm } from "../../lib/forms";
import { GrantsField } from "./GrantsField";
import { type GrantIn, type UserCreate, type UserRead, useCreateUser, useUpdateUser, useUsers } from "./queries";
import { UnitName } from "./UnitName";

/** Grants as the API takes them: an admin grant without a unit. */
function cleanGrants(grants: GrantIn[] | undefined): GrantIn[] {
  return (grants ?? []).map((g) => (g.role === "admin" ? { role: "admin" } : g));
}

export function UsersTab() {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const { message } = App.useApp();
  const [q, setQ] = useState("");
  const users = useUsers(q);
  const create = useCreateUser();
  const update = useUpdateUser();
  const [form] = Form.useForm<UserCreate>();
  const [editForm] = Form.useForm<{ grants: GrantIn[]; active: boolean }>();
  const [formError, setFormError] = useState<unknown>(null);
  const [editing, setEditing] = useState<UserRead | null>(null);
  const [editError, setEditError] = useState<unknown>(null);
  const items = users.data?.pages.flatMap((p) => p.items) ?? [];

  const submit = async (values: UserCreate) => {
    setFormError(null);
    try {
      await create.mutateAsync({ ...values, grants: cleanGrants(values.grants) });
      void message.success(t("admin.userCreated", { username: values.username }));
      form.resetFields();
    } catch (err) {
      if (!showProblemOnForm(form, err)) setFormError(err);
    }
  };

  const saveEdit = async (values: { grants: GrantIn[]; active: boolean }) => {
    if (!editing) return;
    setEditError(null);
    try {
      await update.mutateAsync({ user: editing, grants: cleanGrants(values.grants), active: values.active });
      setEditing(null);
    } catch (err) {
      if (!showProblemOnForm(editForm, err)) setEditError(err);
    }
  };

  return (
    <div className="stack">
      <Panel title={t("admin.newUser")}>
        <ProblemAlert error={formError} />
        <Form form={form} layout="vertical" onFinish={(v) => void submit(v)} initialValues={{ grants: [] }}>
          <Form.Item name="username" label={t("admin.username")} rules={[{ required: true, message: t("admin.required") }]}>
            <Input autoComplete="off" maxLength={64} />
          </Form.Item>
          <Form.Item name="password" label={t("admin.password")} extra={t("admin.passwordHint")} rules={[{ required: true, message: t("admin.required") }]}>
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Form.Item label={t("admin.grants")}>
            <GrantsField />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={create.isPending}>
            {t("admin.createUser")}
          </Button>
        </Form>
      </Panel>
      <Panel title={t("admin.users")}>
        <Input.Search
          allowClear
          placeholder={t("admin.searchUsers")}
          aria-label={t("admin.searchUsers")}
          onSearch={setQ}
          style={{ maxWidth: 360, marginBottom: 12 }}
        />
        <PageState loading={users.isPending} error={users.error}>
          <PlainList
            items={items}
            empty={t("admin.noUsers")}
            keyOf={(u) => u.id}
            render={(u) => (
              <>
                <div className="item-main" data-testid="user-item">
                  <div className="item-title">{u.username}</div>
                  <div className="muted">
                    {u.grants.length === 0
                      ? t("admin.noGrants")
                      : u.grants.map((g, i) => (
                          <span key={i} style={{ marginRight: 12 }}>
                            {label("role", g.role)}
                            {g.unit_id && (
                              <>
                                {": "}
                                <UnitName id={g.unit_id} />
                              </>
                            )}
                          </span>
                        ))}
                  </div>
                </div>
                <Space wrap>
                  {!u.active && <Tag>{t("admin.inactive")}</Tag>}
                  <Button
                    onClick={() => {
                      setEditError(null);
                      setEditing(u);
                      editForm.setFieldsValue({
                        active: u.active,
                        grants: u.grants.map((g) => ({ role: g.role, unit_id: g.unit_id ?? undefined }) as GrantIn),
                      });
                    }}
                  >
                    {t("admin.editUser")}
                  </Button>
                </Space>
              </>
            )}
          />
          <LoadMore hasNext={users.hasNextPage} loading={users.isFetchingNextPage} onClick={() => void users.fetchNextPage()} />
        </PageState>
      </Panel>
      <Modal
        open={editing !== null}
        title={t("admin.editUserTitle", { username: editing?.username ?? "" })}
        onCancel={() => setEditing(null)}
        onOk={() => editForm.submit()}
        okText={t("admin.save")}
        cancelText={t("admin.cancel")}
        confirmLoading={update.isPending}
        destroyOnHidden
      >
        <ProblemAlert error={editError} />
        <Form form={editForm} layout="vertical" onFinish={(v) => void saveEdit(v)}>
          <Form.Item name="active" label={t("admin.active")} valuePropName="checked">
            <Switch />
          </Form.Item>
          <Form.Item label={t("admin.grants")}>
            <GrantsField />
          </Form.Item>
        </Form>
        <p className="muted">{t("admin.grantsNote")}</p>
      </Modal>
    </div>
  );
}
