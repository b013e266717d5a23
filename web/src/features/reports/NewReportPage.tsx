import { Button, Collapse, Form, Input } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";

import { FormSelect } from "../../components/FormSelect";
import { ProblemAlert } from "../../components/ProblemAlert";
import { Panel } from "../../components/Panel";
import { useEnumOptions } from "../../i18n/enums";
import { showProblemOnForm } from "../../lib/forms";
import { type FileReportInput, useFileReport } from "./queries";

interface Values {
  url: string;
  category: FileReportInput["category"];
  description: string;
  proposed_action: FileReportInput["proposed_action"];
  observed_at?: string;
  impersonated_member_id?: string;
  impersonated_unit_id?: string;
}

export default function NewReportPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [form] = Form.useForm<Values>();
  const file = useFileReport();
  const [error, setError] = useState<unknown>(null);
  const categories = useEnumOptions("report_category");
  const actions = useEnumOptions("proposed_action");

  const submit = (v: Values) => {
    setError(null);
    const body: FileReportInput = {
      url: v.url.trim(),
      category: v.category,
      description: v.description.trim(),
      proposed_action: v.proposed_action,
      ...(v.observed_at ? { observed_at: new Date(v.observed_at).toISOString() } : {}),
      ...(v.impersonated_member_id?.trim() ? { impersonated_member_id: v.impersonated_member_id.trim() } : {}),
      ...(v.impersonated_unit_id?.trim() ? { impersonated_unit_id: v.impersonated_unit_id.trim() } : {}),
    };
    file.mutate(body, {
      onSuccess: ({ data, response }) =>
        navigate(`/reports/${data.id}`, { state: { filed: response.status === 201 ? "new" : "existing" } }),
      onError: (err) => {
        if (!showProblemOnForm(form, err)) setError(err);
      },
    });
  };

  return (
    <div className="stack">
      <h1>{t("reports.new")}</h1>
      <Panel title={t("reports.title")}>
        <ProblemAlert error={error} />
        <Form<Values> form={form} layout="vertical" onFinish={submit} requiredMark="optional">
          <Form.Item
            label={t("reports.url")}
            name="url"
            extra={t("reports.urlHelp")}
            rules={[{ required: true, whitespace: true, message: t("reports.urlRequired") }]}
          >
            <Input inputMode="url" autoCapitalize="none" autoComplete="off" />
          </Form.Item>
          <Form.Item
            label={t("reports.category")}
            name="category"
            rules={[{ required: true, message: t("reports.categoryRequired") }]}
          >
            <FormSelect options={categories} showSearch optionFilterProp="label" />
          </Form.Item>
          <Form.Item
            label={t("reports.description")}
            name="description"
            rules={[{ required: true, whitespace: true, message: t("reports.descriptionRequired") }]}
          >
            <Input.TextArea rows={4} maxLength={4000} showCount />
          </Form.Item>
          <Form.Item
            label={t("reports.proposedAction")}
            name="proposed_action"
            rules={[{ required: true, message: t("reports.proposedRequired") }]}
          >
            <FormSelect options={actions} />
          </Form.Item>
          <Form.Item label={t("reports.observedAt")} name="observed_at">
            <Input type="datetime-local" />
          </Form.Item>
          <Collapse
            ghost
            style={{ marginBottom: 16 }}
            items={[
              {
                key: "imp",
                label: t("reports.impersonation"),
                children: (
                  <>
                    <p className="muted">{t("reports.impersonationHelp")}</p>
                    <Form.Item label={t("reports.impersonatedMember")} name="impersonated_member_id">
                      <Input autoComplete="off" />
                    </Form.Item>
                    <Form.Item label={t("reports.impersonatedUnit")} name="impersonated_unit_id">
                      <Input autoComplete="off" />
                    </Form.Item>
                  </>
                ),
              },
            ]}
          />
          <Button type="primary" htmlType="submit" loading={file.isPending}>
            {t("reports.submit")}
          </Button>
        </Form>
      </Panel>
    </div>
  );
}
