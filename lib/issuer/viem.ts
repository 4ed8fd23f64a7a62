/**
 * viem, an optional peer dependency, does the wallet cryptography of logins: the EIP-4361 message
 * and secp256k1 address recovery. It is loaded on the first login, so the rest of the kit works
 * without it.
 */
import { ApiError } from './errors';

export interface WalletCrypto {
  createSiweMessage: (typeof import('viem/siwe'))['createSiweMessage'];
  recoverMessageAddress: (typeof import('viem'))['recoverMessageAddress'];
}

/** Loads an optional peer; a 501 naming the package when it is not installed. */
export async function loadPeer<T>(specifier: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
      const name = specifier.split('/')[0];
      throw new ApiError(
        501,
        `${name}_missing`,
        `Wallet login needs the optional peer dependency ${name}: npm install --save-dev ${name}`,
      );
    }
    throw error;
  }
}

let loaded: Promise<WalletCrypto> | undefined;

export function walletCrypto(): Promise<WalletCrypto> {
  loaded ??= Promise.all([
    loadPeer<typeof import('viem')>('viem'),
    loadPeer<typeof import('viem/siwe')>('viem/siwe'),
  ]).then(
    ([viem, siwe]) => ({
      createSiweMessage: siwe.createSiweMessage,
      recoverMessageAddress: viem.recoverMessageAddress,
    }),
    (error: unknown) => {
      loaded = undefined;
      throw error;
    },
  );
  return loaded;
}
