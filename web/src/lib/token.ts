// The token of a mailed link (/reset-password?token=..., /verify-email?token=...).

/**
 * Reads the `token` query parameter as the API wants it, or null when there is none.
 * Mail clients and copy-paste damage links at the edges: a long line wrapped inside the
 * token leaves whitespace, and a link copied from a sentence keeps its closing ".", ">"
 * or ")". A token is `<user id>.<secret>` in letters, digits, "-" and "_" around one
 * ".", so whitespace anywhere and anything else at the end are dropped; the rest is the
 * API's to judge (it answers an invalid token with a problem the page shows).
 */
export function readToken(raw: string | undefined | null): string | null {
  if (!raw) return null;
  const token = raw.replace(/\s+/g, "").replace(/[^A-Za-z0-9_-]+$/, "");
  return token || null;
}
