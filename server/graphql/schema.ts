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
    "Jobs completed in the last minute."
    perMinute: Float!
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
    "Throughput: jobs completed in the last minute by the stage's live workers."
    perMinute: Float!
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


  # ------------------------------------------------------------------ engagements, graph, operations
  "Free-form JSON (node properties, audit before/after). Attacker-controlled text: show as text only."
  scalar JSON

  enum LensStatus {
    New
    Investigating
    Closed
  }

  enum Resolution {
    TruePositive
    FalsePositive
    Benign
    Duplicate
  }

  enum LensType {
    engagement
    asset
  }

  enum LensSort {
    score
    lastActivity
  }

  enum ScopeRole {
    risky
    context
  }

  enum Direction {
    out
    in
    both
  }

  input LensFilter {
    status: [LensStatus!]
    type: LensType
    host: String
    "ATT&CK technique id, e.g. T1003.001."
    technique: String
    tag: String
    minScore: Float
    maxScore: Float
    "A username; the empty string selects unassigned lenses."
    assignee: String
    "Case-insensitive substring of title, id, tags or hosts."
    text: String
    "Also list lenses merged into another story (hidden by default)."
    includeMerged: Boolean
  }

  "What a change of several lenses at once did to one of them."
  type LensChangeOutcome {
    id: ID!
    "The lens after the change; null when it was refused."
    lens: Lens
    "Why it was refused; null when the change was made."
    error: LensChangeError
  }

  type LensChangeError {
    "One of the API's error codes (NOT_FOUND, INVALID_TRANSITION, ...)."
    code: String!
    message: String!
  }

  type Lens {
    id: ID!
    type: LensType!
    title: String!
    status: LensStatus!
    "The lens's distinct detections added strongest first with falling weights, plus a breadth bonus: one detection scores its own 0..100, several more (at most 313.5). See docs/engagements.md (Score)."
    score: Float!
    hosts: [String!]!
    techniques: [String!]!
    tags: [String!]!
    assignee: String
    riskCount: Int!
    riskyCount: Int!
    nodeCount: Int!
    detectionCount: Int!
    hitCount: Int!
    resolution: Resolution
    resolutionSummary: String
    duplicateOf: ID
    mergedInto: ID
    "New detections reopened this lens after it was closed."
    reopenedByPipeline: Boolean!
    reopenReason: String
    createdAt: String!
    updatedAt: String!
    statusChangedAt: String
    closedAt: String
    closedBy: String
    firstSeen: String
    lastSeen: String
  }

  type LensPage {
    lenses: [Lens!]!
    "Pass as after for the next page; null on the last page."
    nextCursor: String
    total: Int!
  }

  "A node of the graph. key is its stable identity (e.g. Process:<guid>)."
  type Node {
    key: ID!
    kind: String
    host: String
    "Short display text: image file name, path, ip:port, name."
    label: String!
    "Highest risk score on the node (0 without risks)."
    riskScore: Float!
    "All properties; times are epoch milliseconds."
    props: JSON!
  }

  "A node in a lens's scope."
  type ScopeNode {
    node: Node!
    role: ScopeRole!
    addedBy: String
    addedAt: String
  }

  type Edge {
    kind: String!
    from: ID!
    to: ID!
    count: Int
    firstSeen: String
    lastSeen: String
  }

  type Risk {
    key: ID!
    node: ID!
    "sigma:<rule id> or analyzer:<id>."
    detection: String!
    source: String!
    title: String!
    summary: String!
    score: Float!
    techniques: [String!]!
    count: Int!
    firstSeen: String
    lastSeen: String
  }

  type TimelineEvent {
    time: String!
    "process.created, process.terminated, detection, or an edge kind (CREATED, CONNECTED_TO, ...)."
    kind: String!
    node: ID!
    target: ID
    text: String!
  }

  type Note {
    id: ID!
    target: ID!
    targetKind: String!
    "Markdown source. Render safely (no raw HTML)."
    text: String!
    author: String!
    createdAt: String!
    updatedAt: String!
    version: Int!
    editedBy: String
    movedFrom: ID
  }

  type NoteVersion {
    version: Int!
    text: String!
    author: String!
    at: String!
  }

  type AuditEntry {
    id: ID!
    target: ID!
    targetKind: String!
    at: String!
    actor: String!
    action: String!
    before: JSON
    after: JSON
  }

  type Truncation {
    "The scope was cut at the page's node cap (risky nodes first, then by key)."
    nodes: Boolean!
    "The edges among the nodes shown were cut at the page's edge cap; kept first: more risky ends, then the process tree (PARENT_OF), then by kind and keys."
    edges: Boolean!
    timeline: Boolean!
    audit: Boolean!
  }

  type LensDetail {
    lens: Lens!
    "The id asked for, when that lens was merged into this one."
    redirectedFrom: ID
    nodes: [ScopeNode!]!
    edges: [Edge!]!
    risks: [Risk!]!
    timeline: [TimelineEvent!]!
    notes: [Note!]!
    audit: [AuditEntry!]!
    truncated: Truncation!
  }

  "Neighbours of a node along one edge kind and direction."
  type NeighbourGroup {
    edgeKind: String!
    direction: Direction!
    "All neighbours along this edge kind (before paging)."
    total: Int!
  }

  type NeighbourPage {
    nodes: [Node!]!
    edges: [Edge!]!
    total: Int!
    nextCursor: String
  }

  type NodeDetail {
    node: Node!
    risks: [Risk!]!
    notes: [Note!]!
    "Edge kinds and directions with neighbour counts: what expand offers."
    neighbourGroups: [NeighbourGroup!]!
    "Lenses this node is in scope of."
    lenses: [Lens!]!
  }

  type GraphPath {
    nodes: [Node!]!
    edges: [Edge!]!
  }

  type SkippedRule {
    "File path relative to the rule folder."
    path: String!
    title: String
    reason: String!
  }

  type SigmaReport {
    dirs: [String!]!
    loaded: Int!
    correlations: Int!
    skipped: [SkippedRule!]!
    loadedAt: String
  }

  type AnalyzerInfo {
    id: String!
    title: String!
    techniques: [String!]!
    source: String!
  }

  type AnalyzerFailure {
    name: String!
    error: String!
  }

  type AnalyzerReport {
    loaded: [AnalyzerInfo!]!
    failed: [AnalyzerFailure!]!
    loadedAt: String
  }

  "A change to a lens, pushed live."
  type LensEvent {
    "created, updated or merged."
    kind: String!
    lens: Lens!
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

    "Lenses, filtered and sorted; first is capped at 100."
    lenses(filter: LensFilter, sort: LensSort = score, first: Int = 25, after: String): LensPage!
    "Null when unknown. A lens merged into another answers the surviving lens (redirectedFrom says so)."
    lens(id: ID!): LensDetail
    "The markdown report of one engagement (summary, timeline, nodes, risks, notes, resolution)."
    lensReport(id: ID!): String!
    "Null when unknown."
    node(key: ID!): NodeDetail
    "Neighbours along one edge kind (or all, when edgeKind is null); limit capped at 200."
    neighbours(key: ID!, edgeKind: String, direction: Direction = both, limit: Int = 50, after: String): NeighbourPage!
    "A shortest path (at most maxHops, capped at 8) between two nodes; null when none."
    path(from: ID!, to: ID!, maxHops: Int = 6): GraphPath
    "Full-text search over process image and command line, file path, domain, IP and host; limit capped at 100."
    search(text: String!, kinds: [String!], limit: Int = 25): [Node!]!
    "Earlier versions of a note."
    noteHistory(id: ID!): [NoteVersion!]!
    sigmaReport: SigmaReport!
    analyzerReport: AnalyzerReport!
  }

  type Subscription {
    "The upload's progress now and at every change; ends once it is done."
    uploadProgress(id: ID!): Upload!
    "Lenses created, updated (new risks, status, notes) or merged, as they happen."
    lensChanged: LensEvent!
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

    "Analyst or admin. Closed needs resolution and summary (and duplicateOf for Duplicate)."
    setLensStatus(id: ID!, status: LensStatus!, resolution: Resolution, summary: String, duplicateOf: ID): Lens!
    "Analyst or admin. Null unassigns."
    assignLens(id: ID!, assignee: String): Lens!
    "Analyst or admin. setLensStatus for each of up to 100 lenses, each on its own: a lens that cannot take the change is reported in its outcome and the others go ahead. Not for Duplicate (it names one lens)."
    setLensesStatus(ids: [ID!]!, status: LensStatus!, resolution: Resolution, summary: String): [LensChangeOutcome!]!
    "Analyst or admin. assignLens for each of up to 100 lenses, each on its own."
    assignLenses(ids: [ID!]!, assignee: String): [LensChangeOutcome!]!
    "Analyst or admin. Replaces the lens's tags."
    setLensTags(id: ID!, tags: [String!]!): Lens!
    "Analyst or admin. Exactly one of lens or node."
    addNote(lens: ID, node: ID, text: String!): Note!
    "Analyst or admin. The previous text is kept (noteHistory)."
    editNote(id: ID!, text: String!): Note!
    "Analyst or admin. Without role, a new node joins as context and a node already in the lens keeps its role."
    addToLens(lens: ID!, node: ID!, role: ScopeRole): Lens!
    "Analyst or admin."
    removeFromLens(lens: ID!, node: ID!): Lens!
  }
`;
