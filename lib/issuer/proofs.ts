/**
 * The issuer's side of incremental authorization: the upgrade of verified claims to claims that
 * prove a requirement, from what the wallet holds now (`Holdings`, which the issuer fills from its
 * ownership resolver).
 */
import { InsufficientScopeError } from '../errors';
import { addressKey, isEvmChain } from '../chain/address';
import type { CompiledRequirements } from '../ownership/requirements';
import { normaliseClaims, type AccessTokenClaims, type TokenBalances } from '../token/claims';
import { Decimal } from '../chain/decimal';

/** Claims only the normalisation adds, or that tokenBalance and exp already carry: never re-signed. */
const DERIVED_CLAIMS = ['network', 'numTokens', 'ext'];

/** One thing a wallet may hold: a contract's tokens, one token of a contract, a mint, a collection, a creator's. */
export interface Item {
  readonly kind: keyof TokenBalances;
  readonly address: string;
  /** With `kind: 'contractAddress'`: one token id of that contract. */
  readonly id?: string;
}

/** What a wallet holds now, item by item: a positive decimal balance, or undefined for nothing. */
export type Holdings = (item: Item) => string | undefined;

/**
 * Claims for the upgraded token: the old claims plus the balances the table proves for
 * `requirement`, or the refusal when they do not meet it. Earlier proofs are kept (that is what
 * makes the authorization incremental); the expiry stays that of the session.
 *
 * EVM token ids are proven in the issuer's single-requirement claims, `contractAddress` +
 * `tokenIds` + `tokenBalance`, the one place a token binds ids to their contract (ids of the same
 * contract accumulate; ids of another contract replace them, the contract's balance stays proven).
 * Solana token ids are mint addresses and go into `tokenBalances.tokenIds` like any balance.
 */
export function upgradeClaims(
  claims: AccessTokenClaims,
  requirement: CompiledRequirements,
  held: Holdings,
): { claims: Record<string, unknown> } | { refusal: InsufficientScopeError } {
  const { chain, contractAddress, tokenIds, collection, creatorAddress } = requirement.description;
  const proven: TokenBalances = {};
  for (const [kind, map] of Object.entries(claims.tokenBalances ?? {}))
    proven[kind as keyof TokenBalances] = { ...(map as Record<string, string>) };
  // What the wallet holds is the truth for every item the requirement names: what it holds replaces what the
  // token proved, and an item it does not hold is no longer proven (a wallet that sold).
  const record = (kind: keyof TokenBalances, item: string, balance: string | undefined) => {
    // One entry per address as the chain compares them: a second spelling would void the token.
    const kept = Object.entries(proven[kind] ?? {}).filter(
      ([key]) => addressKey(chain, key) !== addressKey(chain, item),
    );
    proven[kind] = balance === undefined ? Object.fromEntries(kept) : { ...Object.fromEntries(kept), [item]: balance };
  };

  const upgraded: Record<string, unknown> = { ...claims };
  if (contractAddress !== undefined && tokenIds !== undefined) {
    const same =
      claims.contractAddress !== undefined &&
      addressKey(chain, claims.contractAddress) === addressKey(chain, contractAddress);
    const ids = new Set(same ? claims.tokenIds : []);
    const token = (id: string) => held({ kind: 'contractAddress', address: contractAddress, id });
    for (const id of tokenIds) if (isPositive(token(id))) ids.add(id);
    let balance = new Decimal(0);
    // An id carried over from the old token counts one unless the holdings say more.
    for (const id of ids) balance = balance.plus(token(id) ?? '1');
    Object.assign(upgraded, { contractAddress, tokenIds: [...ids], tokenBalance: balance.toFixed() });
  } else if (contractAddress !== undefined) {
    record('contractAddress', contractAddress, held({ kind: 'contractAddress', address: contractAddress }));
  } else {
    for (const id of tokenIds ?? []) record('tokenIds', id, held({ kind: 'tokenIds', address: id }));
  }
  for (const c of collection ?? []) record('collection', c, held({ kind: 'collection', address: c }));
  if (creatorAddress !== undefined)
    record('creatorAddress', creatorAddress, held({ kind: 'creatorAddress', address: creatorAddress }));

  upgraded.tokenBalances = proven;
  for (const derived of DERIVED_CLAIMS) delete upgraded[derived];
  try {
    // The identity claims only matter to the check's normalisation: a login or a token-ownership
    // question has none yet, and the balances are what is judged here.
    requirement.check(normaliseClaims({ iss: 'upgrade', aud: 'upgrade', exp: Number.MAX_SAFE_INTEGER, ...upgraded }));
  } catch (refusal) {
    if (!(refusal instanceof InsufficientScopeError)) throw refusal;
    return { refusal };
  }
  return { claims: upgraded };
}

/**
 * The claims with every proof the token carries taken again from the table (`/authz` with
 * `revalidate`): a balance becomes what the wallet holds now, and what it no longer holds is no
 * longer proven, token ids included (an id the table does not hold never counts as one).
 */
export function reproveClaims(claims: AccessTokenClaims, held: Holdings): AccessTokenClaims {
  const chain = claims.chain;
  const reproven: Record<string, unknown> = { ...claims };
  const balances: TokenBalances = {};
  const contracts = Object.keys(claims.tokenBalances?.contractAddress ?? {});
  for (const [kind, map] of Object.entries(claims.tokenBalances ?? {})) {
    const kept: Record<string, string> = {};
    for (const item of Object.keys(map as Record<string, string>)) {
      // On EVM chains an id in tokenBalances is its token's only when one contract is proven.
      const evmId = kind === 'tokenIds' && isEvmChain(chain);
      const asked: Item | undefined = !evmId
        ? { kind: kind as keyof TokenBalances, address: item }
        : contracts.length === 1
          ? { kind: 'contractAddress', address: contracts[0]!, id: item }
          : undefined;
      const balance = asked === undefined ? undefined : held(asked);
      if (isPositive(balance)) kept[item] = balance!;
    }
    balances[kind as keyof TokenBalances] = kept;
  }
  reproven.tokenBalances = balances;
  for (const derived of DERIVED_CLAIMS) delete reproven[derived];
  const { contractAddress, tokenIds } = claims;
  if (contractAddress !== undefined && tokenIds !== undefined) {
    const token = (id: string) => held({ kind: 'contractAddress', address: contractAddress, id });
    const ids = tokenIds.filter((id) => isPositive(token(id)));
    let total = new Decimal(0);
    for (const id of ids) total = total.plus(token(id)!);
    if (ids.length === 0) for (const claim of ['contractAddress', 'tokenIds', 'tokenBalance']) delete reproven[claim];
    else Object.assign(reproven, { tokenIds: ids, tokenBalance: total.toFixed() });
  } else if (contractAddress !== undefined && claims.tokenBalance !== undefined) {
    const balance = held({ kind: 'contractAddress', address: contractAddress });
    if (isPositive(balance)) reproven.tokenBalance = balance;
    else for (const claim of ['contractAddress', 'tokenBalance']) delete reproven[claim];
  }
  return reproven as unknown as AccessTokenClaims;
}

function isPositive(balance: string | undefined): boolean {
  return balance !== undefined && new Decimal(balance).isGreaterThan(0);
}
