/** RFC 7515 §4.1.9: a `typ` without "/" means "application/" + typ; media types compare case-insensitively. */
export function mediaType(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.includes('/') ? lower : `application/${lower}`;
}
