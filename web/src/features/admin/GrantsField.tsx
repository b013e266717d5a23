import { MinusCircleOutlined, PlusOutlined } from "@ant-design/icons";
import { Button, Form, Space } from "antd";
import { useTranslation } from "react-i18next";

import { FormSelect } from "../../components/FormSelect";
import { UnitSelect } from "../../components/UnitSelect";
import { useEnumLabel } from "../../i18n/enums";

/** Roles a user grant may carry (partner is for API clients, member comes from member_id);
 * the server refuses any other, this list only fills the picker. */
export const USER_ROLES = ["admin", "manager", "reviewer", "analyst"] as const;

/** The (role, unit) grants of a user, as a Form.List named `grants`. An admin grant has no
 * unit (the server ignores one). */
export function GrantsField() {
  const { t } = useTranslation();
  const label = useEnumLabel();
  return (
    <Form.List name="grants">
      {(fields, { add, remove }) => (
        <div className="stack" style={{ gap: 8 }}>
          {fields.map((field, i) => (
            <Space key={field.key} wrap align="start" data-testid="grant-row">
              <Form.Item name={[field.name, "role"]} rules={[{ required: true, message: t("admin.required") }]} noStyle>
                <FormSelect
                  aria-label={t("admin.grantRole", { n: i + 1 })}
                  style={{ minWidth: 160 }}
                  options={USER_ROLES.map((r) => ({ value: r, label: label("role", r) }))}
                />
              </Form.Item>
              <Form.Item noStyle shouldUpdate>
                {({ getFieldValue }) =>
                  getFieldValue(["grants", field.name, "role"]) === "admin" ? (
                    <span className="muted">{t("admin.everywhere")}</span>
                  ) : (
                    <Form.Item name={[field.name, "unit_id"]} rules={[{ required: true, message: t("admin.required") }]} noStyle>
                      <UnitSelect aria-label={t("admin.grantUnit", { n: i + 1 })} />
                    </Form.Item>
                  )
                }
              </Form.Item>
              <Button icon={<MinusCircleOutlined />} onClick={() => remove(field.name)} aria-label={t("admin.removeGrant", { n: i + 1 })} />
            </Space>
          ))}
          <div>
            <Button icon={<PlusOutlined />} onClick={() => add({ role: "manager" })}>
              {t("admin.addGrant")}
            </Button>
          </div>
        </div>
      )}
    </Form.List>
  );
}
