import { Button } from "antd";
import { useTranslation } from "react-i18next";
import { useSearchParams } from "react-router";

import { AuditTab } from "./AuditTab";
import { ClientsTab } from "./ClientsTab";
import { UsersTab } from "./UsersTab";

const TABS = ["users", "clients", "audit"] as const;
type Tab = (typeof TABS)[number];

/** Administration: users and their grants, API clients, the audit log. Plain buttons rather
 * than antd's Tabs, whose overflow menu on a phone breaks the tablist's ARIA (axe: critical). */
export default function AdminPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const tab: Tab = (TABS as readonly string[]).includes(params.get("tab") ?? "") ? (params.get("tab") as Tab) : "users";
  return (
    <div className="stack wide">
      <h1>{t("admin.title")}</h1>
      <div className="toolbar" role="group" aria-label={t("admin.title")}>
        {TABS.map((key) => (
          <Button
            key={key}
            type={tab === key ? "primary" : "default"}
            aria-pressed={tab === key}
            onClick={() => setParams({ tab: key }, { replace: true })}
          >
            {t(`admin.${key}`)}
          </Button>
        ))}
      </div>
      {tab === "users" && <UsersTab />}
      {tab === "clients" && <ClientsTab />}
      {tab === "audit" && <AuditTab />}
    </div>
  );
}
