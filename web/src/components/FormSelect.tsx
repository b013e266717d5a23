import { Select, type SelectProps } from "antd";

/** antd's Select inside a required Form.Item: Form.Item sets `aria-required` on it, and
 * rc-select puts that on its root <div>, where ARIA does not allow it (axe: critical).
 * The required mark and the validation message stay. */
export function FormSelect(props: SelectProps & { "aria-required"?: unknown }) {
  const rest = { ...props };
  delete rest["aria-required"];
  return <Select {...rest} />;
}
