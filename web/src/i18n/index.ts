// The chosen language: a cookie (CONTRACT: lang=ko|en, a year), else the browser's.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { en } from "./en";
import { ko, type Messages } from "./ko";

export type Lang = "ko" | "en";

const MESSAGES: Record<Lang, Messages> = { ko, en };
const LOCALES: Record<Lang, string> = { ko: "ko-KR", en: "en-GB" };

export function initialLang(): Lang {
  const cookie = /(?:^|;\s*)lang=(ko|en)(?:;|$)/.exec(document.cookie)?.[1];
  if (cookie === "ko" || cookie === "en") return cookie;
  // Korean first: only a browser that prefers English gets English.
  return navigator.language.toLowerCase().startsWith("en") ? "en" : "ko";
}

export function rememberLang(lang: Lang): void {
  document.cookie = `lang=${lang}; Path=/; SameSite=Lax; Max-Age=31536000`;
  document.documentElement.lang = lang;
}

export interface I18n {
  lang: Lang;
  t: Messages;
  /** A calendar date ("2027-03-21") as it reads in the language; no time zone shift. */
  date: (ymd: string) => string;
  /** An instant in the reader's time zone. */
  dateTime: (iso: string) => string;
  number: (n: number) => string;
  setLang: (lang: Lang) => void;
}

export function makeI18n(lang: Lang, setLang: (lang: Lang) => void): I18n {
  const locale = LOCALES[lang];
  const dateFmt = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" });
  const dateTimeFmt = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
  const numberFmt = new Intl.NumberFormat(locale);
  return {
    lang,
    t: MESSAGES[lang],
    date: (ymd) => {
      const d = new Date(`${ymd}T00:00:00Z`);
      return Number.isNaN(d.getTime()) ? ymd : dateFmt.format(d);
    },
    dateTime: (iso) => {
      const d = new Date(iso);
      return Number.isNaN(d.getTime()) ? iso : dateTimeFmt.format(d);
    },
    number: (n) => numberFmt.format(n),
    setLang,
  };
}

export const I18nContext = createContext<I18n>(makeI18n("ko", () => {}));

export function useI18n(): I18n {
  return useContext(I18nContext);
}
