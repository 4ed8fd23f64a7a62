/**
 * The address line of a login message: an EIP-55 checksummed `0x` address for Ethereum (a
 * lower-case or upper-case address is refused with `address_not_checksummed`, never read as the
 * same wallet), a base58 Ed25519 public key (32 bytes) for Solana.
 */
import { base58 } from '@scure/base';
import { invalid, SiweError } from './errors';
import type { AccountKind } from './message';
import { loadViem } from './viem';

const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BASE58 = /^[1-9A-HJ-NP-Za-km-z]{32,44}$/;

/** The 32 bytes of a Solana address, or undefined when it is not base58 of exactly 32 bytes. */
export function solanaPublicKey(address: string): Uint8Array | undefined {
  if (!BASE58.test(address)) return undefined;
  try {
    const bytes = base58.decode(address);
    // base58 keeps leading zero bytes as "1"s: the text of a 32-byte key is unique.
    return bytes.length === 32 ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/** Why `address` cannot be the address of a message for `account`, or undefined. */
export function addressProblem(account: AccountKind, address: string): SiweError | undefined {
  if (account === 'solana')
    return solanaPublicKey(address) ? undefined : invalid('address', 'address must be a base58 Solana public key');
  if (!EVM_ADDRESS.test(address)) return invalid('address', 'address must be 0x followed by 40 hex digits');
  if (loadViem().getAddress(address) !== address)
    return new SiweError(
      'address_not_checksummed',
      'address must be written in its EIP-55 checksum case, not all lower or upper case',
      'address',
    );
  return undefined;
}
