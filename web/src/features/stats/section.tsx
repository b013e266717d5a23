import { BarChartOutlined } from "@ant-design/icons";
import { lazy } from "react";

import type { Section } from "../../app/sections";

const StatsPage = lazy(() => import("./StatsPage"));

export const statsSection: Section = {
  key: "stats",
  to: "/workspace/stats",
  icon: <BarChartOutlined />,
  roles: ["admin", "manager", "reviewer", "analyst"],
  routes: [{ path: "workspace/stats", element: <StatsPage /> }],
};
