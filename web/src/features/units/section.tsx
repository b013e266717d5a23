import { ApartmentOutlined } from "@ant-design/icons";
import { lazy } from "react";

import type { Section } from "../../app/sections";

const UnitsPage = lazy(() => import("./UnitsPage"));

/** The unit tree of the caller's scope (managers, reviewers). */
export const unitsSection: Section = {
  key: "units",
  to: "/workspace/units",
  icon: <ApartmentOutlined />,
  roles: ["admin", "manager", "reviewer"],
  routes: [{ path: "workspace/units", element: <UnitsPage /> }],
};
