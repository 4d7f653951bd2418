import { describe, expect, it } from "vitest";
import { putFile, type Upload } from "./upload";

const upload: Upload = {
  url: "https://b.s3.ap-northeast-2.amazonaws.com/imports/m/i.csv?X-Amz-Signature=abc",
  method: "PUT",
  content_type: "text/csv",
  expires_at: "2027-03-21T09:15:00Z",
};

describe("the results file's upload", () => {
  it("PUTs the bytes to the presigned URL with the signed content type and nothing else", async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    const send = (async (url: string, init: RequestInit) => {
      seen.push({ url, init });
      return new Response(null, { status: 200 });
    }) as typeof fetch;
    const file = new Blob(["Bib,Status,Chip Time\n1,finished,3:00:00\n"]);
    expect(await putFile(upload, file, send)).toBeNull();
    expect(seen).toHaveLength(1);
    const [{ url, init }] = seen as [{ url: string; init: RequestInit }];
    expect(url).toBe(upload.url);
    expect(init.method).toBe("PUT");
    expect(init.headers).toEqual({ "Content-Type": "text/csv" });
    expect(init.credentials).toBe("omit");
    expect(init.body).toBe(file);
  });

  it("reads S3's XML error into a problem", async () => {
    const send = (async () =>
      new Response(
        "<?xml version='1.0'?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
        { status: 403 },
      )) as typeof fetch;
    expect(await putFile(upload, new Blob(["x"]), send)).toEqual({
      status: 403,
      title: "",
      detail: "AccessDenied: Request has expired",
      errors: [],
    });
  });

  it("says a blocked or failed request is a network failure", async () => {
    const send = (async () => {
      throw new TypeError("Failed to fetch");
    }) as typeof fetch;
    expect(await putFile(upload, new Blob(["x"]), send)).toEqual({ status: 0, title: "", errors: [] });
  });
});
