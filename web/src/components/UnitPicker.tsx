import { useQuery } from "@tanstack/react-query";
import { TreeSelect } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import { api, unwrap } from "../api";
import { fetchChildren, toNode, type UnitNode, unitLabel, useScopeRoots, withChildren } from "../lib/units";

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

  // The chosen unit's name, even before its branch of the tree is loaded.
  const chosen = useQuery({
    queryKey: ["units", props.value],
    enabled: !!props.value,
    staleTime: 5 * 60_000,
    queryFn: () => unwrap(api.client.GET("/api/v1/units/{unit_id}", { params: { path: { unit_id: props.value ?? "" } } })),
  });
  const value = props.value ? { value: props.value, label: chosen.data ? unitLabel(chosen.data) : "…" } : undefined;

  const load = async (node: { key?: React.Key; children?: unknown }) => {
    if (node.children || node.key === undefined) return;
    const key = String(node.key);
    const children = (await fetchChildren(key)).map(toNode);
    setTree((all) => withChildren(all, key, children));
  };

  return (
    <TreeSelect<{ value: string; label: React.ReactNode }>
      id={props.id}
      labelInValue
      aria-label={props["aria-label"]}
      style={props.style ?? { minWidth: 240 }}
      value={value}
      onChange={(v) => props.onChange?.(v?.value ?? undefined)}
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
