import type { FormInstance } from "antd";

import { ApiError } from "../api";

type NamePath = (string | number)[];

/** Put a problem's field errors in place on the form: `errors[].loc`, or, for problems
 * without a location (e.g. 409 `duplicate_account`), the field the code is about.
 * Returns false when nothing could be placed (the caller shows the problem above). */
export function showProblemOnForm(
  form: FormInstance,
  error: unknown,
  fieldForCode: Record<string, NamePath> = {},
): boolean {
  if (!(error instanceof ApiError)) return false;
  const fields = error.fieldErrors();
  if (fields.length > 0) {
    form.setFields(fields.map((f) => ({ name: f.name, errors: [f.message] })));
    return true;
  }
  const name = fieldForCode[error.code];
  if (name) {
    form.setFields([{ name, errors: [error.detail ?? error.title] }]);
    return true;
  }
  return false;
}
