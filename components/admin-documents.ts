/**
 * GraphQL documents of the admin page (AdminUsers, ApiTokens), kept apart from the components so that
 * components/graphql-documents.test.ts can validate them against the server schema.
 */

const ACCOUNT_FIELDS = 'username role disabled createdAt';
export const USERS_QUERY = /* GraphQL */ `query Users { users { ${ACCOUNT_FIELDS} } }`;
export const CREATE_USER = /* GraphQL */ `mutation CreateUser($username: String!, $role: Role!, $password: String!) {
  createUser(username: $username, role: $role, password: $password) { ${ACCOUNT_FIELDS} } }`;
export const SET_USER_ROLE = /* GraphQL */ `mutation SetUserRole($username: String!, $role: Role!) {
  setUserRole(username: $username, role: $role) { ${ACCOUNT_FIELDS} } }`;
export const DISABLE_USER = /* GraphQL */ `mutation DisableUser($username: String!) { disableUser(username: $username) { ${ACCOUNT_FIELDS} } }`;
export const ENABLE_USER = /* GraphQL */ `mutation EnableUser($username: String!) { enableUser(username: $username) { ${ACCOUNT_FIELDS} } }`;

const TOKEN_FIELDS = 'id name scope createdBy createdAt expiresAt lastUsedAt revoked active';
export const TOKENS_QUERY = /* GraphQL */ `query ApiTokens { apiTokens { ${TOKEN_FIELDS} } }`;
export const CREATE_TOKEN = /* GraphQL */ `mutation CreateApiToken($name: String!, $scope: TokenScope!, $days: Int) {
  createApiToken(name: $name, scope: $scope, expiresInDays: $days) { secret token { ${TOKEN_FIELDS} } } }`;
export const REVOKE_TOKEN = /* GraphQL */ `mutation RevokeApiToken($id: ID!) { revokeApiToken(id: $id) { ${TOKEN_FIELDS} } }`;
