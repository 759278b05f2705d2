/** `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time (over SHA-256 digests, equal lengths). */

const encoder = new TextEncoder();

async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

export async function isAdminAuthorized(
  header: string | null | undefined,
  adminToken: string,
): Promise<boolean> {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  const presented = match?.[1] ?? "";
  const [a, b] = await Promise.all([digest(presented), digest(adminToken)]);
  return crypto.subtle.timingSafeEqual(a, b) && presented !== "";
}
