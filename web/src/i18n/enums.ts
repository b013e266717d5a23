import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";

import { api, unwrap } from "../api";
import type { paths } from "../api";

/** Enumeration labels come from the server (GET /meta/enums), in vi and en. */
export function useEnums() {
  return useQuery({
    queryKey: ["meta", "enums"],
    queryFn: () => unwrap(api.client.GET("/api/v1/meta/enums")),
    staleTime: Infinity,
  });
}

type EnumCatalog =
  paths["/api/v1/meta/enums"]["get"]["responses"][200]["content"]["application/json"];

/** Every enumeration the server labels (the catalog's keys). */
export type EnumName = keyof EnumCatalog;

export function useEnumLabel(): (name: EnumName, code: string | null | undefined) => string {
  const { data } = useEnums();
  const { i18n } = useTranslation();
  return (name, code) => {
    if (!code) return "";
    const entry = data?.[name]?.find((v) => v.code === code);
    if (!entry) return code;
    return i18n.language === "en" ? entry.en : entry.vi;
  };
}

export function useEnumOptions(name: EnumName): { value: string; label: string }[] {
  const { data } = useEnums();
  const { i18n } = useTranslation();
  return (data?.[name] ?? []).map((v) => ({ value: v.code, label: i18n.language === "en" ? v.en : v.vi }));
}
