/**
 * The requests picket-js 0.0.102 makes, reproduced request for request from its sources
 * (`src/picket.ts`, `src/connect/ConnectModal.tsx`), because installing picket-js pulls its
 * wallet-UI packages. Paths, methods, headers (its `Authorization: Basic  <key>` has two spaces)
 * and bodies are the library's; messages are built as its `createSigningMessage` builds them
 * (the SIWE text is siwe 1.x's `toMessage`), written out here independently of the emulator.
 *
 * It also plays the browser: every call carries the page's `Origin`, a preflight precedes each
 * request (JSON and Authorization make them non-simple), and an answer without the CORS grant is
 * refused as a browser would refuse it.
 */

export interface AuthRequirements {
  contractAddress?: string;
  minTokenBalance?: number | string;
  allowedWallets?: string[];
  tokenIds?: string[];
  collection?: string | string[];
  creatorAddress?: string;
  chain?: string;
}

export interface AuthState {
  accessToken: string;
  user: {
    chain: string;
    walletAddress: string;
    displayAddress: string;
    tokenBalances?: Record<string, Record<string, string>>;
  };
}

export interface SigningMessageContext {
  domain: string;
  uri: string;
  chainId: number;
  issuedAt: string;
  chainType: string;
  locale?: string;
}

/** A wallet as picket-js's connectors expose one: an address and personal_sign. */
export interface BrowserWallet {
  address: string;
  signMessage(args: { message: string }): Promise<string>;
}

export class CorsBlocked extends Error {}

/** `Picket.createSigningMessage` of picket-js 0.0.102. */
export function createSigningMessage(args: {
  format: 'simple' | 'siwe';
  nonce: string;
  statement: string;
  walletAddress: string;
  domain?: string;
  uri?: string;
  issuedAt?: string;
  chainId?: number;
}): string {
  if (args.format === 'simple') return `${args.statement}\n\nAddress: ${args.walletAddress}\nNonce: ${args.nonce}`;
  // siwe 1.x SiweMessage#toMessage with version "1" and a statement.
  return [
    `${args.domain} wants you to sign in with your Ethereum account:`,
    args.walletAddress,
    '',
    args.statement,
    '',
    `URI: ${args.uri}`,
    'Version: 1',
    `Chain ID: ${args.chainId}`,
    `Nonce: ${args.nonce}`,
    `Issued At: ${args.issuedAt}`,
  ].join('\n');
}

export class PicketJs {
  /** What picket-js keeps in localStorage under `_picketauth`. */
  stored: AuthState | null = null;

  constructor(
    private readonly apiKey: string,
    private readonly options: { baseURL: string; origin: string },
  ) {}

  private headers(): Record<string, string> {
    return { 'Content-Type': 'application/json', Authorization: `Basic  ${btoa(this.apiKey)}` };
  }

  /** fetch as the browser runs it for this page: preflight, request, CORS check; rejects the body on non-2xx. */
  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const url = `${this.options.baseURL}${path}`;
    const { origin } = this.options;
    const preflight = await fetch(url, {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': method,
        'Access-Control-Request-Headers': 'authorization,content-type',
      },
    });
    await preflight.arrayBuffer();
    const granted = preflight.headers.get('access-control-allow-origin');
    const headers = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    if (
      !preflight.ok ||
      (granted !== origin && granted !== '*') ||
      !headers.includes('authorization') ||
      !headers.includes('content-type')
    ) {
      throw new CorsBlocked(`preflight for ${path} refused (${preflight.status})`);
    }
    const res = await fetch(url, {
      method,
      headers: { ...this.headers(), Origin: origin },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const allowed = res.headers.get('access-control-allow-origin');
    const data = await res.json();
    if (allowed !== origin && allowed !== '*') throw new CorsBlocked(`answer to ${path} lacks the CORS grant`);
    if (!(res.status >= 200 && res.status < 300)) return Promise.reject(data);
    return data as T;
  }

  chainInfo(chain: string) {
    return this.request<{ chainSlug: string; chainId: number; chainType: string; chainName: string }>(
      'GET',
      `/chains/${chain}`,
    );
  }

  nonce({
    walletAddress,
    chain = 'ethereum',
    locale = 'en',
  }: {
    walletAddress: string;
    chain?: string;
    locale?: string;
  }) {
    return this.request<{ nonce: string; statement: string; format?: 'simple' | 'siwe' }>('POST', '/auth/nonce', {
      chain,
      walletAddress,
      locale,
    });
  }

  async auth(args: {
    chain?: string;
    walletAddress: string;
    signature: string;
    requirements?: AuthRequirements;
    context?: SigningMessageContext;
  }) {
    const { chain = 'ethereum', walletAddress, signature, requirements, context } = args;
    const data = await this.request<AuthState>('POST', '/auth', {
      chain,
      walletAddress,
      signature,
      requirements,
      context,
    });
    this.stored = data;
    return data;
  }

  async authz({
    accessToken,
    requirements,
    revalidate = false,
  }: {
    accessToken: string;
    requirements: AuthRequirements;
    revalidate?: boolean;
  }) {
    const data = await this.request<AuthState>('POST', '/authz', { accessToken, requirements, revalidate });
    this.stored = data;
    return data;
  }

  validate(accessToken: string, requirements?: AuthRequirements) {
    return this.request<Record<string, unknown>>('POST', '/auth/validate', { accessToken, requirements });
  }

  /**
   * The login the connect modal runs: chain info, the SIWE context from the page's location,
   * a nonce, the message, the wallet's signature, then `/auth`.
   */
  async login(
    wallet: BrowserWallet,
    {
      chain = 'ethereum',
      requirements,
      context: changes = {},
    }: { chain?: string; requirements?: AuthRequirements; context?: Partial<SigningMessageContext> } = {},
  ) {
    const { chainId, chainType } = await this.chainInfo(chain);
    const page = new URL(this.options.origin);
    const context: SigningMessageContext = {
      domain: page.host,
      uri: page.origin,
      issuedAt: new Date().toISOString(),
      chainId,
      chainType,
      locale: 'en-US',
      ...changes,
    };
    const {
      nonce,
      statement,
      format = 'siwe',
    } = await this.nonce({ walletAddress: wallet.address, chain, locale: context.locale });
    const message = createSigningMessage({ nonce, statement, format, walletAddress: wallet.address, ...context });
    const signature = await wallet.signMessage({ message });
    return this.auth({ chain, walletAddress: wallet.address, signature, context, requirements });
  }

  /** `authState()` after a page reload: the stored state, validated at `/auth/validate`, or logged out. */
  async authStateAfterReload(): Promise<AuthState | null> {
    if (!this.stored) return null;
    try {
      await this.validate(this.stored.accessToken);
      return this.stored;
    } catch {
      this.stored = null;
      return null;
    }
  }
}
