/**
 * The GraphQL schema (SDL). Times are ISO-8601 strings (UTC). Every field except `login` needs a
 * session; the services check roles.
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

  type Query {
    me: Viewer!
    health: Health!
    "Admin only."
    users: [Account!]!
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
  }
`;
