import { SettingOutlined } from "@ant-design/icons";
import { lazy } from "react";

import type { Section } from "../../app/sections";

const AdminPage = lazy(() => import("./AdminPage"));

export const adminSection: Section = {
  key: "admin",
  to: "/workspace/admin",
  icon: <SettingOutlined />,
  roles: ["admin"],
  routes: [{ path: "workspace/admin", element: <AdminPage /> }],
};
