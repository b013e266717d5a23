import { AlertOutlined } from "@ant-design/icons";
import { lazy } from "react";

import type { Section } from "../../app/sections";

const QueuePage = lazy(() => import("./QueuePage"));
const CasePage = lazy(() => import("./CasePage"));

/** Handling reported posts within their deadlines (reviewers, managers). */
export const caseworkSection: Section = {
  key: "casework",
  to: "/workspace/reports",
  icon: <AlertOutlined />,
  roles: ["admin", "manager", "reviewer"],
  routes: [
    { path: "workspace/reports", element: <QueuePage /> },
    { path: "workspace/reports/:reportId", element: <CasePage /> },
  ],
};
