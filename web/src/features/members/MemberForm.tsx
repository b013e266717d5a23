import { Button, Form, Input, Space, Switch } from "antd";
import { useTranslation } from "react-i18next";

import { FormSelect } from "../../components/FormSelect";
import { UnitPicker } from "../../components/UnitPicker";
import { useEnumOptions } from "../../i18n/enums";
import type { Member } from "./queries";

export interface MemberValues {
  full_name: string;
  external_id?: string | null;
  unit_id: string;
  membership: Member["membership"];
  status: Member["status"];
  position?: string | null;
  is_leader: boolean;
  email?: string | null;
  phone?: string | null;
}

/** The fields of a member, for creating one and for editing one. */
export function MemberForm(props: {
  form: ReturnType<typeof Form.useForm<MemberValues>>[0];
  initial: Partial<MemberValues>;
  submitting: boolean;
  submitLabel: string;
  onSubmit: (values: MemberValues) => void;
  onCancel?: () => void;
}) {
  const { t } = useTranslation();
  const statuses = useEnumOptions("member_status");
  const memberships = useEnumOptions("membership");
  const required = (field: string) => [{ required: true, message: t("members.required", { field }) }];
  return (
    <Form<MemberValues> form={props.form} layout="vertical" initialValues={props.initial} onFinish={props.onSubmit} data-testid="member-form">
      <Form.Item name="full_name" label={t("members.name")} rules={required(t("members.name"))}>
        <Input maxLength={200} />
      </Form.Item>
      <Form.Item name="external_id" label={t("members.externalId")}>
        <Input maxLength={64} />
      </Form.Item>
      <Form.Item name="unit_id" label={t("members.unit")} rules={required(t("members.unit"))}>
        <UnitPicker allowClear={false} style={{ width: "100%" }} />
      </Form.Item>
      <Form.Item name="membership" label={t("members.membership")} rules={required(t("members.membership"))}>
        <FormSelect options={memberships} />
      </Form.Item>
      <Form.Item name="status" label={t("members.status")} rules={required(t("members.status"))}>
        <FormSelect options={statuses} />
      </Form.Item>
      <Form.Item name="position" label={t("members.position")}>
        <Input maxLength={200} />
      </Form.Item>
      <Form.Item name="is_leader" label={t("members.leader")} valuePropName="checked">
        <Switch />
      </Form.Item>
      <Form.Item name="email" label={t("members.email")}>
        <Input type="email" maxLength={254} />
      </Form.Item>
      <Form.Item name="phone" label={t("members.phone")}>
        <Input type="tel" maxLength={32} />
      </Form.Item>
      <Space>
        <Button type="primary" htmlType="submit" loading={props.submitting}>
          {props.submitLabel}
        </Button>
        {props.onCancel && <Button onClick={props.onCancel}>{t("app.cancel")}</Button>}
      </Space>
    </Form>
  );
}

/** Trimmed values; an emptied optional text becomes null. */
export function cleanValues(v: MemberValues): MemberValues {
  const text = (s: string | null | undefined) => (s?.trim() ? s.trim() : null);
  return {
    ...v,
    full_name: v.full_name.trim(),
    external_id: text(v.external_id),
    position: text(v.position),
    email: text(v.email),
    phone: text(v.phone),
    is_leader: !!v.is_leader,
  };
}
