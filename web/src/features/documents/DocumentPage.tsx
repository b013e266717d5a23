import { DownloadOutlined } from "@ant-design/icons";
import { Alert, App, Button, Space, Tag } from "antd";
import Markdown from "react-markdown";
import { useTranslation } from "react-i18next";
import { useParams } from "react-router";

import { EnumTag } from "../../components/EnumTag";
import { PageState } from "../../components/PageState";
import { Panel } from "../../components/Panel";
import { useEnumLabel } from "../../i18n/enums";
import { saveBlob } from "../../lib/download";
import { formatDate } from "../../lib/format";
import { useProblemMessage } from "../../lib/problems";
import { downloadDocumentFile, useAcknowledge, useDocument } from "./queries";

export default function DocumentPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const problem = useProblemMessage();
  const label = useEnumLabel();
  const { documentId = "" } = useParams();
  const doc = useDocument(documentId);
  const ack = useAcknowledge(documentId);
  const d = doc.data;

  const download = async () => {
    if (!d?.file) return;
    try {
      saveBlob(await downloadDocumentFile(d.id), d.file.filename);
    } catch (err) {
      void message.error(problem(err));
    }
  };

  return (
    <PageState loading={doc.isPending} error={doc.error}>
      {d && (
        <div className="stack">
          <h1>
            {d.code} — {d.title}
          </h1>
          <Space wrap>
            <Tag>{label("doc_type", d.doc_type)}</Tag>
            <span className="muted">{t("documents.issued", { issuer: d.issuer, date: formatDate(d.issued_on) })}</span>
            <span className="muted">{t("documents.revision", { revision: d.revision })}</span>
          </Space>
          {d.requires_ack && (
            <Panel title={t("documents.acknowledge")} testId="ack">
              {d.ack_state === "done" ? (
                <Alert
                  type="success"
                  showIcon
                  role="status"
                  message={t("documents.ackDone", { date: formatDate(d.acknowledged_at) })}
                />
              ) : (
                <Space direction="vertical">
                  <Space wrap>
                    <EnumTag name="ack_state" code={d.ack_state ?? "pending"} />
                    {d.ack_due_at && <span>{t("documents.ackDue", { date: formatDate(d.ack_due_at) })}</span>}
                  </Space>
                  <Button
                    type="primary"
                    loading={ack.isPending}
                    onClick={() =>
                      ack.mutate(d.revision, { onSuccess: () => void message.success(t("documents.acknowledged")) })
                    }
                  >
                    {t("documents.acknowledge")}
                  </Button>
                </Space>
              )}
            </Panel>
          )}
          {d.summary && <p>{d.summary}</p>}
          {d.file && (
            <div>
              <Button icon={<DownloadOutlined />} onClick={() => void download()}>
                {t("documents.download", { name: d.file.filename })}
              </Button>
            </div>
          )}
          <Panel title={t("documents.read")} testId="document-body">
            {d.body ? (
              <div className="markdown">
                {/* Markdown only: raw HTML in the body is dropped, never rendered. */}
                <Markdown skipHtml>{d.body}</Markdown>
              </div>
            ) : (
              <p className="empty">{t("documents.noBody")}</p>
            )}
          </Panel>
        </div>
      )}
    </PageState>
  );
}
