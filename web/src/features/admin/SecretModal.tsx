import { CopyOutlined } from "@ant-design/icons";
import { Alert, App, Button, Modal } from "antd";
import { useTranslation } from "react-i18next";

/** A client secret, shown this once (the server keeps only its hash), with a copy button. */
export function SecretModal(props: { secret: { clientId: string; secret: string } | null; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.secret?.secret ?? "");
      void message.success(t("admin.copied"));
    } catch {
      void message.error(t("admin.copyFailed"));
    }
  };
  return (
    <Modal
      open={props.secret !== null}
      title={t("admin.secretTitle")}
      onCancel={props.onClose}
      footer={<Button type="primary" onClick={props.onClose}>{t("admin.secretSaved")}</Button>}
      maskClosable={false}
      destroyOnHidden
    >
      <Alert type="warning" showIcon message={t("admin.secretOnce")} style={{ marginBottom: 12 }} />
      <p>{t("admin.clientId")}</p>
      <p className="secret" data-testid="client-id">{props.secret?.clientId}</p>
      <p>{t("admin.clientSecret")}</p>
      <p className="secret" data-testid="client-secret">{props.secret?.secret}</p>
      <Button icon={<CopyOutlined />} onClick={() => void copy()}>
        {t("admin.copySecret")}
      </Button>
    </Modal>
  );
}
