// The results file's upload: a PUT of the file's bytes straight to the presigned S3 URL
// the API answers (the site's CSP allows that bucket's origin, its CORS the site's), so the
// file never passes through the API and its 64 KiB body limit.
import type { components } from "../api/schema";
import type { Problem } from "./problem";

export type Upload = components["schemas"]["Upload"];

/** The largest file the import reads (DESIGN: 10 MiB); a larger one is refused here. */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;

/**
 * PUTs `file` where `upload` says, with the one header the URL is signed for. No
 * credentials and no Authorization: the signature in the URL is the grant, and the
 * access token never leaves for another origin. Null when stored, else a problem whose
 * detail is S3's message (an expired URL, say); its title is left for the page to word.
 */
export async function putFile(upload: Upload, file: Blob, send: typeof fetch = fetch): Promise<Problem | null> {
  let response: Response;
  try {
    response = await send(upload.url, {
      method: upload.method,
      headers: { "Content-Type": upload.content_type },
      body: file,
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
  } catch {
    return { status: 0, title: "", errors: [] };
  }
  if (response.ok) return null;
  const text = await response.text().catch(() => "");
  // S3 answers errors as XML: <Error><Code>..</Code><Message>..</Message></Error>
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const detail = [code, message].filter(Boolean).join(": ") || undefined;
  return { status: response.status, title: "", detail, errors: [] };
}
