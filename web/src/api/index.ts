import i18n from "../i18n";
import { createApi } from "./client";

/** The app's one API instance. The API origin is the page's own unless VITE_API_ORIGIN
 * names another (the API's CORS settings must then allow this origin). */
export const api = createApi({
  baseUrl: import.meta.env.VITE_API_ORIGIN ?? "",
  language: () => i18n.language || "vi",
});

export { ApiError, NetworkError } from "./errors";
export type { FieldError, Problem } from "./errors";
export { ifMatch, nextCursor, unwrap, unwrapResponse } from "./client";
export { uploadWithProgress } from "./upload";
export type { paths } from "./schema";
