import { SafetyCertificateOutlined } from "@ant-design/icons";
import { lazy } from "react";

import type { Section } from "../../app/sections";

const ReviewPage = lazy(() => import("./ReviewPage"));

/** Pending declarations for the party committee to verify or reject (managers). */
export const reviewSection: Section = {
  key: "review",
  to: "/workspace/review",
  icon: <SafetyCertificateOutlined />,
  roles: ["admin", "manager"],
  routes: [{ path: "workspace/review", element: <ReviewPage /> }],
};
