import { FileDoneOutlined } from "@ant-design/icons";
import { lazy } from "react";

import type { Section } from "../../app/sections";

const GuidanceListPage = lazy(() => import("./GuidanceListPage"));
const GuidanceEditPage = lazy(() => import("./GuidanceEditPage"));

export const guidanceSection: Section = {
  key: "guidance",
  to: "/workspace/documents",
  icon: <FileDoneOutlined />,
  roles: ["admin", "manager"],
  routes: [
    { path: "workspace/documents", element: <GuidanceListPage /> },
    { path: "workspace/documents/new", element: <GuidanceEditPage /> },
    { path: "workspace/documents/:documentId", element: <GuidanceEditPage /> },
  ],
};
