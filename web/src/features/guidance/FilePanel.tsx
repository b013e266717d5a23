import { UploadOutlined } from "@ant-design/icons";
import { Alert, App, Button, Progress } from "antd";
import { useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { useTranslation } from "react-i18next";

import { Panel } from "../../components/Panel";
import { ProblemAlert } from "../../components/ProblemAlert";
import { formatBytes } from "../../lib/format";
import { type Doc, uploadDocumentFile } from "./queries";

const MAX_BYTES = 20 * 1024 * 1024; // the API's limit per document file; a courtesy check

/** The attached PDF or DOCX: upload or replace with progress (the server checks the kind). */
export function FilePanel({ doc }: { doc: Doc }) {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const input = useRef<HTMLInputElement>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tooBig, setTooBig] = useState(false);

  const upload = async (file: File | undefined) => {
    setError(null);
    setTooBig(false);
    if (!file) return;
    if (file.size > MAX_BYTES) return setTooBig(true);
    setProgress(0);
    try {
      await uploadDocumentFile(doc, file, setProgress);
      void message.success(t("docsAdmin.fileUploaded", { name: file.name }));
      await queryClient.invalidateQueries({ queryKey: ["guidance"] });
    } catch (err) {
      setError(err);
    } finally {
      setProgress(null);
    }
  };

  return (
    <Panel title={t("docsAdmin.file")} testId="doc-file">
      <p>
        {doc.file
          ? t("docsAdmin.currentFile", { name: doc.file.filename, size: formatBytes(doc.file.size, i18n.language) })
          : t("docsAdmin.noFile")}
      </p>
      {tooBig && <Alert type="error" showIcon role="alert" message={t("docsAdmin.fileTooBig")} style={{ marginBottom: 16 }} />}
      <ProblemAlert error={error} />
      {progress !== null && <Progress percent={Math.round(progress * 100)} aria-label={t("docsAdmin.uploading")} />}
      <input
        ref={input}
        type="file"
        hidden
        accept=".pdf,.docx,application/pdf,application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        data-testid="doc-file-input"
        onChange={(e) => {
          void upload(e.target.files?.[0]);
          e.target.value = "";
        }}
      />
      {doc.status !== "archived" && (
        <Button icon={<UploadOutlined />} loading={progress !== null} onClick={() => input.current?.click()}>
          {doc.file ? t("docsAdmin.replaceFile") : t("docsAdmin.uploadFile")}
        </Button>
      )}
    </Panel>
  );
}
