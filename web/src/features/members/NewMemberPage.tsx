import { Form } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useSearchParams } from "react-router";

import { ProblemAlert } from "../../components/ProblemAlert";
import { showProblemOnForm } from "../../lib/forms";
import { cleanValues, MemberForm, type MemberValues } from "./MemberForm";
import { useCreateMember } from "./queries";

export default function NewMemberPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [form] = Form.useForm<MemberValues>();
  const create = useCreateMember();
  const [error, setError] = useState<unknown>(null);
  const submit = (values: MemberValues) => {
    setError(null);
    const v = cleanValues(values);
    create.mutate(
      { ...v, external_id: v.external_id ?? undefined, position: v.position ?? undefined, email: v.email ?? undefined, phone: v.phone ?? undefined },
      {
        onSuccess: (m) => navigate(`/workspace/members/${m.id}`, { replace: true }),
        onError: (err) => {
          if (!showProblemOnForm(form, err, { duplicate_external_id: ["external_id"] })) setError(err);
        },
      },
    );
  };
  return (
    <div className="stack">
      <h1>{t("members.new")}</h1>
      <ProblemAlert error={error} />
      <section className="panel">
        <div className="panel-body">
          <MemberForm
            form={form}
            initial={{ membership: "official", status: "active", is_leader: false, unit_id: params.get("unit") ?? undefined }}
            submitting={create.isPending}
            submitLabel={t("members.create")}
            onSubmit={submit}
            onCancel={() => navigate(-1)}
          />
        </div>
      </section>
    </div>
  );
}
