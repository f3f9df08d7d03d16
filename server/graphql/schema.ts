/**
 * The GraphQL schema (SDL). Times are ISO-8601 strings (UTC). Every field except `login` needs a
 * session or an API token; the services check roles and token scopes. Subscriptions are served over
 * server-sent events (POST with `Accept: text/event-stream`).
 */
export const typeDefs = /* GraphQL */ `
  enum Role {
    admin
    analyst
    viewer
  }

  "The signed-in account."
  type Viewer {
    username: String!
    role: Role!
  }

  type Account {
    username: String!
    role: Role!
    disabled: Boolean!
    createdAt: String!
  }

  type WorkerStatus {
    stage: String!
    workerId: String!
    host: String!
    pid: Int!
    "Heartbeat within the last 15 seconds."
    up: Boolean!
    startedAt: String!
    lastSeen: String!
    processed: Float!
    failed: Float!
  }

  "Job counts of one stage's queue; null when the queue could not be read."
  type StageStatus {
    name: String!
    waiting: Int
    active: Int
    delayed: Int
    failed: Int
    completed: Int
    workersUp: Int!
  }

  type Health {
    redis: Boolean!
    neo4j: Boolean!
    workers: [WorkerStatus!]!
    stages: [StageStatus!]!
    checkedAt: String!
  }

  enum TokenScope {
    "May only send telemetry (POST /api/ingest) and read the progress of what it sent."
    ingest
    "May run queries, as a viewer."
    read
  }

  "An API token for scripts (Authorization: Bearer). The secret is never listed."
  type ApiToken {
    id: ID!
    name: String!
    scope: TokenScope!
    createdBy: String!
    createdAt: String!
    "Null: never expires (until revoked)."
    expiresAt: String
    lastUsedAt: String
    revoked: Boolean!
    "Not revoked and not expired."
    active: Boolean!
  }

  type CreatedApiToken {
    token: ApiToken!
    "Shown once: only its hash is stored."
    secret: String!
  }

  "Chunks of an upload one stage has finished."
  type StageProgress {
    stage: String!
    done: Int!
    "Null until every chunk of the upload is enqueued."
    total: Int
  }

  type KeyCount {
    key: String!
    count: Int!
  }

  type RecordCounts {
    read: Int!
    accepted: Int!
    skipped: Int!
    rejected: Int!
    "Records of event types Lensgraph does not model, by type (e.g. channel:eventId)."
    skippedByType: [KeyCount!]!
    "Malformed records, by reason category."
    rejectedByReason: [KeyCount!]!
  }

  type GraphCounts {
    nodesWritten: Int!
    edgesWritten: Int!
  }

  type Upload {
    id: ID!
    name: String!
    createdAt: String!
    createdBy: String!
    "All chunks are enqueued (the input was read to its end or failed)."
    sealed: Boolean!
    totalChunks: Int
    "One entry per pipeline stage, in pipeline order."
    stages: [StageProgress!]!
    records: RecordCounts!
    graph: GraphCounts!
    findings: Int!
    "Every stage has finished (or failed) every chunk."
    done: Boolean!
    "Chunks that failed for good."
    failed: Int!
    error: String
  }

  "A record the parser refused. All text is untrusted input: show it as text only."
  type RejectedRecord {
    source: String!
    recordNo: Int!
    reason: String!
    "At most 200 characters, control characters replaced."
    firstBytes: String!
  }

  type Query {
    me: Viewer!
    health: Health!
    "Admin only."
    users: [Account!]!
    "Admin only. Newest first."
    apiTokens: [ApiToken!]!
    "Most recent first (at most 100)."
    uploads(limit: Int = 20): [Upload!]!
    "Null when unknown or expired."
    upload(id: ID!): Upload
    "The first rejected records of an upload (at most 1000)."
    rejectedRecords(uploadId: ID!, limit: Int = 100): [RejectedRecord!]!
  }

  type Subscription {
    "The upload's progress now and at every change; ends once it is done."
    uploadProgress(id: ID!): Upload!
  }

  type Mutation {
    "Starts a session (sets the lg_session cookie)."
    login(username: String!, password: String!): Viewer!
    "Ends the current session."
    logout: Boolean!
    "Admin only."
    createUser(username: String!, role: Role!, password: String!): Account!
    "Admin only. Ends the account's sessions."
    setUserRole(username: String!, role: Role!): Account!
    "Admin only. Ends the account's sessions."
    disableUser(username: String!): Account!
    "Admin only."
    enableUser(username: String!): Account!
    "Admin only. The secret is in the answer and nowhere else, ever."
    createApiToken(name: String!, scope: TokenScope!, expiresInDays: Int): CreatedApiToken!
    "Admin only. Takes effect at the token's next request."
    revokeApiToken(id: ID!): ApiToken!
  }
`;
