/**
 * Whether a URL's host is this machine: the one place where plain http may carry secrets (test
 * issuers, local nodes) and where the emulator lets browsers in by default.
 */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
