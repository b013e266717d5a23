import { useQuery } from "@tanstack/react-query";
import { Select } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { api, unwrap } from "../api";

export interface UnitOption {
  id: string;
  code: string;
  name: string;
}

/** A unit picker searched on the server (`GET /units?q=`, code or name, diacritic-
 * insensitive), limited to the caller's scope by the server. `value` is the unit id;
 * `onPick` also receives the unit (its code, for roster sync). No `aria-required` on the
 * root (see FormSelect). */
export function UnitSelect(props: {
  value?: string;
  onChange?: (id: string | undefined) => void;
  onPick?: (unit: UnitOption | undefined) => void;
  id?: string;
  "aria-label"?: string;
  "aria-required"?: unknown;
  style?: React.CSSProperties;
}) {
  const { t } = useTranslation();
  const [q, setQ] = useState("");
  const units = useQuery({
    queryKey: ["units", "pick", q],
    queryFn: () => unwrap(api.client.GET("/api/v1/units", { params: { query: { q: q || undefined, limit: 20, status: "active" } } })),
    staleTime: 30_000,
  });
  const found = units.data?.items ?? [];
  // The chosen unit may not be among the search results (an existing record's unit): read it.
  const chosen = useQuery({
    queryKey: ["units", props.value],
    enabled: Boolean(props.value) && !found.some((u) => u.id === props.value),
    queryFn: () => unwrap(api.client.GET("/api/v1/units/{unit_id}", { params: { path: { unit_id: props.value as string } } })),
    staleTime: 5 * 60_000,
  });
  const items = chosen.data && !found.some((u) => u.id === chosen.data.id) ? [chosen.data, ...found] : found;
  return (
    <Select
      id={props.id}
      aria-label={props["aria-label"]}
      showSearch
      allowClear
      filterOption={false}
      value={props.value}
      placeholder={t("unitSelect.pick")}
      notFoundContent={units.isFetching ? t("app.loading") : t("unitSelect.none")}
      onSearch={setQ}
      onChange={(id: string | undefined) => {
        props.onChange?.(id);
        const unit = items.find((u) => u.id === id);
        props.onPick?.(unit ? { id: unit.id, code: unit.code, name: unit.name } : undefined);
      }}
      options={items.map((u) => ({ value: u.id, label: `${u.code} — ${u.name}` }))}
      style={{ minWidth: 240, ...props.style }}
      data-testid="unit-select"
    />
  );
}
