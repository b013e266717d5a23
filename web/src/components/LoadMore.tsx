import { Button } from "antd";
import { useTranslation } from "react-i18next";

/** "Load more" for cursor-paginated lists ({items, next_cursor}). */
export function LoadMore(props: { hasNext: boolean; loading: boolean; onClick: () => void }) {
  const { t } = useTranslation();
  if (!props.hasNext) return null;
  return (
    <div style={{ textAlign: "center", marginTop: 12 }}>
      <Button onClick={props.onClick} loading={props.loading}>
        {t("app.loadMore")}
      </Button>
    </div>
  );
}
