import { TreeSelect } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import { fetchChildren, toNode, type UnitNode, useScopeRoots, withChildren } from "../lib/units";

export interface UnitPickerProps {
  value?: string | null;
  onChange?: (unitId: string | undefined) => void;
  id?: string;
  placeholder?: string;
  allowClear?: boolean;
  style?: React.CSSProperties;
  "aria-label"?: string;
}

/** A unit of the caller's scope, chosen in a tree that loads each level when opened
 * (`GET /units?parent_id=`). The roots are the units of the caller's grants (`/auth/me`). */
export function UnitPicker(props: UnitPickerProps) {
  const { t } = useTranslation();
  const roots = useScopeRoots();
  const [tree, setTree] = useState<UnitNode[]>([]);
  useEffect(() => {
    if (roots.data) setTree(roots.data.map(toNode));
  }, [roots.data]);

  const load = async (node: { key?: React.Key; children?: unknown }) => {
    if (node.children || node.key === undefined) return;
    const key = String(node.key);
    const children = (await fetchChildren(key)).map(toNode);
    setTree((all) => withChildren(all, key, children));
  };

  return (
    <TreeSelect<string>
      id={props.id}
      aria-label={props["aria-label"]}
      style={props.style ?? { minWidth: 240 }}
      value={props.value ?? undefined}
      onChange={(v) => props.onChange?.(v ?? undefined)}
      treeData={tree}
      loadData={load}
      allowClear={props.allowClear ?? true}
      placeholder={props.placeholder ?? t("units.pick")}
      loading={roots.isPending}
      popupMatchSelectWidth={false}
      treeNodeFilterProp="title"
      showSearch
    />
  );
}
