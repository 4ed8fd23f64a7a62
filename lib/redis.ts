/**
 * express-token-gate/redis: the Redis revocation store and the Redis issuer store. A separate
 * entry point, so applications without Redis never load a Redis client.
 */
export { redisRevocationStore } from './revocation/redis';
export type { RedisRevocationStore, RedisRevocationStoreOptions, RedisClientLike } from './revocation/redis';
export { redisIssuerStore } from './issuer/store/redis';
export type { RedisIssuerStore, RedisIssuerStoreOptions, RedisCommandClient } from './issuer/store/redis';
