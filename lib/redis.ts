/**
 * express-token-gate/redis: the Redis revocation store. A separate entry point, so applications
 * without Redis never load a Redis client.
 */
export { redisRevocationStore } from './revocation/redis';
export type { RedisRevocationStore, RedisRevocationStoreOptions, RedisClientLike } from './revocation/redis';
