import { Tag } from "antd";

import { type EnumName, useEnumLabel } from "../i18n/enums";

// Colours only: the meaning (the label) comes from the server.
const COLORS: Record<string, string> = {
  pending: "gold", verified: "green", rejected: "red", closed: "default", compromised: "volcano",
  submitted: "blue", in_review: "geekblue", escalated: "purple", resolved: "green", dismissed: "default",
  withdrawn: "default", done: "green", not_declared: "orange", declared: "green", declared_none: "green",
};

/** The tag colour of an enumeration code (for tables that render many tags at once). */
export function enumColor(code: string): string {
  return COLORS[code] ?? "default";
}

export function EnumTag({ name, code }: { name: EnumName; code: string | null | undefined }) {
  const label = useEnumLabel();
  if (!code) return null;
  return <Tag color={COLORS[code] ?? "default"}>{label(name, code)}</Tag>;
}
