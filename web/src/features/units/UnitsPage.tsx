import { useQuery } from "@tanstack/react-query";
import { Button, Descriptions, Input, Tree } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { api, unwrap } from "../../api";
import { EnumTag } from "../../components/EnumTag";
import { PageState } from "../../components/PageState";
import { Panel, PlainList } from "../../components/Panel";
import { useEnumLabel } from "../../i18n/enums";
import { fetchChildren, toNode, type Unit, type UnitNode, unitLabel, useScopeRoots, withChildren } from "../../lib/units";

function useUnitSearch(q: string) {
  return useQuery({
    queryKey: ["units", "search", q],
    enabled: q.length > 0,
    queryFn: () => unwrap(api.client.GET("/api/v1/units", { params: { query: { q, limit: 50 } } })),
  });
}

function UnitDetail({ unit }: { unit: Unit }) {
  const { t } = useTranslation();
  const label = useEnumLabel();
  return (
    <Panel title={unitLabel(unit)} testId="unit-detail">
      <Descriptions
        column={1}
        size="small"
        items={[
          { key: "code", label: t("units.code"), children: unit.code },
          { key: "level", label: t("units.level"), children: label("unit_level", unit.level) },
          { key: "status", label: t("units.status"), children: <EnumTag name="unit_status" code={unit.status} /> },
          { key: "decl", label: t("units.declarationRequired"), children: unit.declaration_required ? t("app.yes") : t("app.no") },
        ]}
      />
      <Link to={`/workspace/members?unit=${unit.id}`}>{t("units.members")}</Link>
    </Panel>
  );
}

/** The unit tree, loaded a level at a time, and a search by code or name. */
export default function UnitsPage() {
  const { t } = useTranslation();
  const roots = useScopeRoots();
  const [tree, setTree] = useState<UnitNode[]>([]);
  const [selected, setSelected] = useState<Unit | null>(null);
  const [q, setQ] = useState("");
  const search = useUnitSearch(q);
  useEffect(() => {
    if (roots.data) setTree(roots.data.map(toNode));
  }, [roots.data]);

  const load = async (node: { key: React.Key; children?: unknown }) => {
    if (node.children) return;
    const key = String(node.key);
    const children = (await fetchChildren(key)).map(toNode);
    setTree((all) => withChildren(all, key, children));
  };

  return (
    <div className="stack">
      <h1>{t("units.title")}</h1>
      <Input.Search
        aria-label={t("units.search")}
        placeholder={t("units.search")}
        allowClear
        enterButton={t("app.search")}
        onSearch={(v) => setQ(v.trim())}
      />
      {q && (
        <Panel title={t("units.results", { q })} testId="unit-results">
          <PageState loading={search.isPending} error={search.error}>
            <PlainList
              items={search.data?.items ?? []}
              empty={t("units.noResults")}
              keyOf={(u) => u.id}
              render={(u) => (
                <Button type="link" className="break" style={{ padding: 0, height: "auto", textAlign: "left" }} onClick={() => setSelected(u)}>
                  {unitLabel(u)}
                </Button>
              )}
            />
          </PageState>
        </Panel>
      )}
      <div className="two-col">
        <Panel title={t("units.tree")} testId="unit-tree">
          <PageState loading={roots.isPending} error={roots.error}>
            <Tree<UnitNode>
              treeData={tree}
              loadData={load}
              onSelect={(_keys, info) => setSelected(info.node.unit)}
              blockNode
            />
          </PageState>
        </Panel>
        {selected && <UnitDetail unit={selected} />}
      </div>
    </div>
  );
}
