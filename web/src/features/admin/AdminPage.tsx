import { Tabs } from "antd";
import { useTranslation } from "react-i18next";
import { useSearchParams } from "react-router";

import { AuditTab } from "./AuditTab";
import { ClientsTab } from "./ClientsTab";
import { UsersTab } from "./UsersTab";

const TABS = ["users", "clients", "audit"] as const;
type Tab = (typeof TABS)[number];

/** Administration: users and their grants, API clients, the audit log. */
export default function AdminPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const tab: Tab = (TABS as readonly string[]).includes(params.get("tab") ?? "") ? (params.get("tab") as Tab) : "users";
  return (
    <div className="stack wide">
      <h1>{t("admin.title")}</h1>
      <Tabs
        activeKey={tab}
        onChange={(key) => setParams({ tab: key }, { replace: true })}
        destroyInactiveTabPane
        items={[
          { key: "users", label: t("admin.users"), children: <UsersTab /> },
          { key: "clients", label: t("admin.clients"), children: <ClientsTab /> },
          { key: "audit", label: t("admin.audit"), children: <AuditTab /> },
        ]}
      />
    </div>
  );
}
