import { SyncOutlined } from "@ant-design/icons";
import { lazy } from "react";

import type { Section } from "../../app/sections";

const RosterPage = lazy(() => import("./RosterPage"));

export const rosterSyncSection: Section = {
  key: "rosterSync",
  to: "/workspace/roster-sync",
  icon: <SyncOutlined />,
  roles: ["admin", "partner"],
  routes: [{ path: "workspace/roster-sync", element: <RosterPage /> }],
};
