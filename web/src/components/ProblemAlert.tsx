import { Alert } from "antd";

import { useProblemMessage } from "../lib/problems";

export function ProblemAlert({ error }: { error: unknown }) {
  const message = useProblemMessage();
  if (!error) return null;
  return <Alert type="error" showIcon message={message(error)} role="alert" style={{ marginBottom: 16 }} />;
}
