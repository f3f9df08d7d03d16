/**
 * Redis key names for authentication, under the installation's prefix.
 * (They belong with the other names in lib/redis.ts `keys()`; kept here until that file takes them.)
 */
export function authKeys(prefix: string) {
  return {
    /** String: JSON StoredSession, keyed by the SHA-256 of the session id (ids are never stored). */
    session: (idHash: string) => `${prefix}:auth:s:${idHash}`,
    /** Set: the session hashes of one account, so disabling or re-roling it ends its sessions. */
    accountSessions: (username: string) => `${prefix}:auth:u:${username}`,
    /** Counter: failed logins for one username from one client address. */
    loginFailures: (digest: string) => `${prefix}:auth:rl:${digest}`,
    /** Counter: failed logins for one username from any address (a ceiling against address rotation). */
    loginFailuresAnyIp: (digest: string) => `${prefix}:auth:rlu:${digest}`,
    /** Set: the upload ids an `ingest` API token sent, so it may read their progress and nothing else. */
    tokenUploads: (tokenId: string) => `${prefix}:auth:tu:${tokenId}`,
  };
}
