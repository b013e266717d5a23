import i18n from "i18next";
import { initReactI18next } from "react-i18next";

import en from "./en";
import vi from "./vi";

export const LANGUAGES = ["vi", "en"] as const;
export type Language = (typeof LANGUAGES)[number];
const KEY = "qd85.lang"; // a preference, not a secret: localStorage is fine

function initial(): Language {
  try {
    const saved = globalThis.localStorage?.getItem(KEY);
    return saved === "en" ? "en" : "vi";
  } catch {
    return "vi";
  }
}

void i18n.use(initReactI18next).init({
  resources: { vi: { translation: vi }, en: { translation: en } },
  lng: initial(),
  fallbackLng: "vi",
  interpolation: { escapeValue: false }, // React escapes
  returnNull: false,
});

export function setLanguage(lang: Language): void {
  void i18n.changeLanguage(lang);
  try {
    globalThis.localStorage?.setItem(KEY, lang);
  } catch {
    /* private mode */
  }
  document.documentElement.lang = lang;
}

export default i18n;
