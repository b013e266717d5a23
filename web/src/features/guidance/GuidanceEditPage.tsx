import { App, Button, Checkbox, Form, Input, Popconfirm, Space, Tabs } from "antd";
import { useState } from "react";
import Markdown from "react-markdown";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router";

import { EnumTag } from "../../components/EnumTag";
import { FormSelect } from "../../components/FormSelect";
import { PageState } from "../../components/PageState";
import { Panel } from "../../components/Panel";
import { ProblemAlert } from "../../components/ProblemAlert";
import { UnitSelect } from "../../components/UnitSelect";
import { useEnumOptions } from "../../i18n/enums";
import { formatDateTime } from "../../lib/format";
import { showProblemOnForm } from "../../lib/forms";
import { useProblemMessage } from "../../lib/problems";
import { AckProgress } from "./AckProgress";
import { localToRfc3339, rfc3339ToLocal } from "./dates";
import { FilePanel } from "./FilePanel";
import { type Doc, type DocCreate, useCreateDocument, useManagedDocument, useMove, useUpdateDocument } from "./queries";
import { Revisions } from "./Revisions";

interface Values extends Omit<DocCreate, "ack_due_at"> {
  ack_due_local?: string;
}

function toValues(d: Doc): Values {
  return {
    code: d.code, title: d.title, doc_type: d.doc_type, issuer: d.issuer, issued_on: d.issued_on,
    summary: d.summary ?? "", body: d.body ?? "", audience_unit_id: d.audience_unit_id,
    requires_ack: d.requires_ack, ack_due_local: rfc3339ToLocal(d.ack_due_at),
  };
}

function toBody(v: Values): DocCreate {
  const { ack_due_local, ...rest } = v;
  return { ...rest, summary: rest.summary || null, body: rest.body || null, ack_due_at: localToRfc3339(ack_due_local) };
}

/** Create or edit a guidance document; publish, archive, file, revisions and progress. */
export default function GuidanceEditPage() {
  const { documentId } = useParams();
  const doc = useManagedDocument(documentId);
  if (!documentId) return <Editor doc={undefined} />;
  return (
    <PageState loading={doc.isPending} error={doc.error}>
      {doc.data && <Editor doc={doc.data} key={`${doc.data.id}:${doc.data.version}`} />}
    </PageState>
  );
}

function Editor({ doc }: { doc: Doc | undefined }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const problem = useProblemMessage();
  const navigate = useNavigate();
  const [form] = Form.useForm<Values>();
  const body = Form.useWatch("body", form) ?? "";
  const docTypes = useEnumOptions("doc_type");
  const create = useCreateDocument();
  const update = useUpdateDocument();
  const move = useMove();
  const [formError, setFormError] = useState<unknown>(null);
  const readOnly = doc?.status === "archived";

  const save = async (values: Values) => {
    setFormError(null);
    try {
      if (doc) {
        await update.mutateAsync({ doc, body: toBody(values) });
        void message.success(t("docsAdmin.saved"));
      } else {
        const created = await create.mutateAsync(toBody(values));
        void message.success(t("docsAdmin.created"));
        navigate(`/workspace/documents/${created.id}`, { replace: true });
      }
    } catch (err) {
      if (!showProblemOnForm(form, err)) setFormError(err);
    }
  };

  const doMove = async (to: "publish" | "archive") => {
    if (!doc) return;
    try {
      await move.mutateAsync({ doc, to });
      void message.success(to === "publish" ? t("docsAdmin.publishedOk") : t("docsAdmin.archivedOk"));
    } catch (err) {
      void message.error(problem(err));
    }
  };

  return (
    <div className="stack wide">
      <div>
        <Link to="/workspace/documents">{t("docsAdmin.backToList")}</Link>
      </div>
      <h1>{doc ? `${doc.code} — ${doc.title}` : t("docsAdmin.new")}</h1>
      {doc && (
        <Panel title={t("docsAdmin.state")} extra={<EnumTag name="document_status" code={doc.status} />} testId="doc-state">
          <p className="muted">
            {doc.published_at
              ? t("docsAdmin.publishedAt", { date: formatDateTime(doc.published_at), revision: doc.revision })
              : t("docsAdmin.draftNote")}
          </p>
          <Space wrap>
            {doc.status === "draft" && (
              <Popconfirm
                title={t("docsAdmin.publishConfirm")}
                okText={t("docsAdmin.publish")}
                cancelText={t("admin.cancel")}
                onConfirm={() => doMove("publish")}
              >
                <Button type="primary" loading={move.isPending}>
                  {t("docsAdmin.publish")}
                </Button>
              </Popconfirm>
            )}
            {doc.status === "published" && (
              <Popconfirm
                title={t("docsAdmin.archiveConfirm")}
                okText={t("docsAdmin.archive")}
                cancelText={t("admin.cancel")}
                onConfirm={() => doMove("archive")}
              >
                <Button loading={move.isPending}>{t("docsAdmin.archive")}</Button>
              </Popconfirm>
            )}
          </Space>
        </Panel>
      )}
      <Panel title={t("docsAdmin.details")}>
        <ProblemAlert error={formError} />
        {doc?.status === "published" && <p className="muted">{t("docsAdmin.revisionNote")}</p>}
        <Form
          form={form}
          layout="vertical"
          disabled={readOnly}
          initialValues={doc ? toValues(doc) : { requires_ack: true, doc_type: "guidance", body: "" }}
          onFinish={(v) => void save(v)}
        >
          <Form.Item name="code" label={t("docsAdmin.code")} rules={[{ required: true, message: t("admin.required") }]}>
            <Input maxLength={64} />
          </Form.Item>
          <Form.Item name="title" label={t("docsAdmin.docTitle")} rules={[{ required: true, message: t("admin.required") }]}>
            <Input maxLength={500} />
          </Form.Item>
          <Form.Item name="doc_type" label={t("docsAdmin.docType")} rules={[{ required: true, message: t("admin.required") }]}>
            <FormSelect options={docTypes} />
          </Form.Item>
          <Form.Item name="issuer" label={t("docsAdmin.issuer")} rules={[{ required: true, message: t("admin.required") }]}>
            <Input maxLength={200} />
          </Form.Item>
          <Form.Item name="issued_on" label={t("docsAdmin.issuedOn")} rules={[{ required: true, message: t("admin.required") }]}>
            <Input type="date" />
          </Form.Item>
          <Form.Item name="audience_unit_id" label={t("docsAdmin.audience")} rules={[{ required: true, message: t("admin.required") }]}>
            <UnitSelect />
          </Form.Item>
          <Form.Item name="requires_ack" valuePropName="checked">
            <Checkbox>{t("docsAdmin.requiresAck")}</Checkbox>
          </Form.Item>
          <Form.Item name="ack_due_local" label={t("docsAdmin.ackDue")}>
            <Input type="datetime-local" />
          </Form.Item>
          <Form.Item name="summary" label={t("docsAdmin.summary")}>
            <Input.TextArea rows={2} maxLength={2000} />
          </Form.Item>
          <Tabs
            items={[
              {
                key: "write",
                label: t("docsAdmin.write"),
                children: (
                  <Form.Item name="body" label={t("docsAdmin.body")} extra={t("docsAdmin.markdownHint")}>
                    <Input.TextArea rows={12} style={{ fontFamily: "ui-monospace, monospace" }} />
                  </Form.Item>
                ),
              },
              {
                key: "preview",
                label: t("docsAdmin.preview"),
                children: (
                  <div className="markdown" data-testid="markdown-preview">
                    {body.trim() ? <Markdown skipHtml>{body}</Markdown> : <p className="empty">{t("docsAdmin.emptyBody")}</p>}
                  </div>
                ),
              },
            ]}
          />
          {!readOnly && (
            <Button type="primary" htmlType="submit" loading={create.isPending || update.isPending}>
              {doc ? t("docsAdmin.save") : t("docsAdmin.createDraft")}
            </Button>
          )}
        </Form>
      </Panel>
      {doc && <FilePanel doc={doc} />}
      {doc && doc.status !== "draft" && <Revisions id={doc.id} />}
      {doc && doc.status !== "draft" && doc.requires_ack && <AckProgress doc={doc} />}
    </div>
  );
}
