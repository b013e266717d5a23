import { useUnit } from "./queries";

/** "CODE — name" of a unit id (admin grants carry no unit). */
export function UnitName({ id }: { id: string | null | undefined }) {
  const unit = useUnit(id);
  if (!id) return null;
  return <span>{unit.data ? `${unit.data.code} — ${unit.data.name}` : id}</span>;
}
