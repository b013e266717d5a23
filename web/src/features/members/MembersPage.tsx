import { PlusOutlined } from "@ant-design/icons";
import { Button, Input, Select, Table } from "antd";
import type { ColumnsType } from "antd/es/table";
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useSearchParams } from "react-router";

import { enumColor } from "../../components/EnumTag";
import { LoadMore } from "../../components/LoadMore";
import { ProblemAlert } from "../../components/ProblemAlert";
import { UnitPicker } from "../../components/UnitPicker";
import { useEnumLabel, useEnumOptions, useEnums } from "../../i18n/enums";
import { usePowers } from "../../lib/roles";
import { filtersFromParams, type Member, type MemberFilters, paramsFromFilters, useMembers } from "./queries";

/** Fetch the next page when the table is scrolled this close to its end (px). */
const NEAR_END = 400;

export default function MembersPage() {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => filtersFromParams(params), [params]);
  const members = useMembers(filters);
  const rows = useMemo(() => members.data?.pages.flatMap((p) => p.items) ?? [], [members.data]);
  const canManage = usePowers().manage;
  const statuses = useEnumOptions("member_status");
  const memberships = useEnumOptions("membership");
  const declarations = useEnumOptions("declaration");
  const set = (patch: Partial<MemberFilters>) => setParams(paramsFromFilters({ ...filters, ...patch }), { replace: true });

  // The columns and their cells stay the same objects while scrolling: the virtual table
  // re-renders only the rows coming into view. A cell's tag is a plain <span> styled by
  // app.css: antd's Tag registers its CSS-in-JS on every mount (a scan of every <style>),
  // which made fast scrolling drop frames (profiled: long tasks of 50–150 ms).
  const label = useEnumLabel();
  const enums = useEnums().data;
  const tag = (name: "membership" | "member_status" | "declaration") => (code: string) => (
    <span className={`cell-tag cell-tag-${enumColor(code)}`}>{label(name, code)}</span>
  );
  const columns: ColumnsType<Member> = useMemo(() => [
    {
      title: t("members.name"),
      dataIndex: "full_name",
      width: 220,
      render: (name: string, m: Member) => <Link to={`/workspace/members/${m.id}`}>{name}</Link>,
    },
    { title: t("members.position"), dataIndex: "position", width: 200, ellipsis: true },
    { title: t("members.membership"), dataIndex: "membership", width: 150, render: tag("membership") },
    { title: t("members.status"), dataIndex: "status", width: 150, render: tag("member_status") },
    { title: t("members.leader"), dataIndex: "is_leader", width: 110, render: (v: boolean) => (v ? t("app.yes") : "") },
    { title: t("members.declaration"), dataIndex: "declaration", width: 170, render: tag("declaration") },
    // `label` and `tag` are new closures each render over these same inputs.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  ], [t, i18n.language, enums]);

  const onScroll = (e: React.UIEvent<HTMLElement>) => {
    const el = e.target as HTMLElement;
    if (members.hasNextPage && !members.isFetchingNextPage && el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_END) {
      void members.fetchNextPage();
    }
  };

  return (
    <div className="stack">
      <h1>{t("members.title")}</h1>
      <div className="filters" role="search">
        <Input.Search
          aria-label={t("members.search")}
          placeholder={t("members.search")}
          defaultValue={filters.q}
          allowClear
          onSearch={(v) => set({ q: v.trim() || undefined })}
          style={{ width: 260 }}
        />
        <UnitPicker aria-label={t("units.pick")} value={filters.unit_id} onChange={(v) => set({ unit_id: v })} />
        <Select aria-label={t("members.status")} placeholder={t("members.status")} allowClear options={statuses} value={filters.status} onChange={(v) => set({ status: v })} style={{ width: 170 }} />
        <Select aria-label={t("members.membership")} placeholder={t("members.membership")} allowClear options={memberships} value={filters.membership} onChange={(v) => set({ membership: v })} style={{ width: 170 }} />
        <Select
          aria-label={t("members.leader")}
          placeholder={t("members.leader")}
          allowClear
          options={[
            { value: "true", label: t("members.leadersOnly") },
            { value: "false", label: t("members.notLeaders") },
          ]}
          value={filters.is_leader === undefined ? undefined : String(filters.is_leader)}
          onChange={(v?: string) => set({ is_leader: v === undefined ? undefined : v === "true" })}
          style={{ width: 170 }}
        />
        <Select aria-label={t("members.declaration")} placeholder={t("members.declaration")} allowClear options={declarations} value={filters.declaration} onChange={(v) => set({ declaration: v })} style={{ width: 190 }} />
        {canManage && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate("/workspace/members/new")}>
            {t("members.new")}
          </Button>
        )}
      </div>
      <ProblemAlert error={members.error} />
      <p className="muted" aria-live="polite" data-testid="members-count">
        {members.hasNextPage ? t("members.loadedMore", { count: rows.length }) : t("members.loaded", { count: rows.length })}
      </p>
      <div onScrollCapture={onScroll} data-testid="members-table">
        <Table<Member>
          virtual
          rowKey="id"
          size="small"
          columns={columns}
          dataSource={rows}
          loading={members.isPending}
          pagination={false}
          scroll={{ x: 1000, y: 560 }}
          locale={{ emptyText: t("members.none") }}
        />
      </div>
      <LoadMore hasNext={!!members.hasNextPage} loading={members.isFetchingNextPage} onClick={() => void members.fetchNextPage()} />
    </div>
  );
}
