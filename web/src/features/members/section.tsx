import { TeamOutlined } from "@ant-design/icons";
import { lazy } from "react";

import type { Section } from "../../app/sections";

const MembersPage = lazy(() => import("./MembersPage"));
const MemberPage = lazy(() => import("./MemberPage"));
const NewMemberPage = lazy(() => import("./NewMemberPage"));

/** The roster of the caller's scope: list, detail, and for managers create and edit. */
export const membersSection: Section = {
  key: "members",
  to: "/workspace/members",
  icon: <TeamOutlined />,
  roles: ["admin", "manager", "reviewer"],
  routes: [
    { path: "workspace/members", element: <MembersPage /> },
    { path: "workspace/members/new", element: <NewMemberPage /> },
    { path: "workspace/members/:memberId", element: <MemberPage /> },
  ],
};
