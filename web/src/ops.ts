// Every operation the app sends, typed against ../schema.graphql by gql.tada.
import { graphql, type AllFit, type Fits, type ResultOf } from './graphql';

export const AssignmentFields = graphql(`
  fragment AssignmentFields on CategoryAssignment {
    status
    method
    assignedAt
    error
    category { id slug name }
  }
`);

export const MeFields = graphql(
  `
  fragment MeFields on User {
    id
    email
    role
    resumeUpdatedAt
    categoryAssignment { ...AssignmentFields }
  }
`,
  [AssignmentFields],
);

export const MeQuery = graphql(`query Me { me { ...MeFields } }`, [MeFields]);

export const ResumeQuery = graphql(`
  query MyResume {
    me {
      id
      resume { text source fileName contentType sizeBytes pages warnings updatedAt }
    }
  }
`);

export const Register = graphql(
  `mutation Register($email: String!, $password: String!) {
    register(email: $email, password: $password) { token user { ...MeFields } }
  }`,
  [MeFields],
);

export const Login = graphql(
  `mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) { token user { ...MeFields } }
  }`,
  [MeFields],
);

export const SaveResume = graphql(
  `mutation SaveResume($text: String!) { saveResume(text: $text) { ...MeFields } }`,
  [MeFields],
);

export const UploadResume = graphql(
  `mutation UploadResume($file: Upload!) {
    uploadResume(file: $file) {
      ...MeFields
      resume { text source fileName contentType sizeBytes pages warnings updatedAt }
    }
  }`,
  [MeFields],
);

export const MatchFields = graphql(`
  fragment MatchFields on Match {
    score
    reason
    matchedSkills
    missingSkills
    method
    status
    scoredAt
    job {
      id
      title
      company
      location
      jobUrl
      jobUrlDirect
      source
      description
      datePosted
      isRemote
      jobType
      closedAt
      salary { min max currency interval estimated }
      postings { source jobUrl jobUrlDirect }
    }
  }
`);

export const MatchedJobs = graphql(
  `
  query MatchedJobs(
    $first: Int, $after: String, $minScore: Int, $status: MatchStatus, $sort: MatchSort,
    $remote: Boolean, $includeClosed: Boolean, $excludeStatus: [MatchStatus!]
  ) {
    matchedJobs(
      first: $first, after: $after, minScore: $minScore, status: $status, sort: $sort,
      remote: $remote, includeClosed: $includeClosed, excludeStatus: $excludeStatus
    ) {
      categoryAssignment { ...AssignmentFields }
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { ...MatchFields } }
    }
  }
`,
  [AssignmentFields, MatchFields],
);

export const SetMatchStatus = graphql(
  `mutation SetMatchStatus($jobListingId: ID!, $status: MatchStatus!) {
    setMatchStatus(jobListingId: $jobListingId, status: $status) { ...MatchFields }
  }`,
  [MatchFields],
);

export const DocFields = graphql(`
  fragment DocFields on TailoredDocument {
    id
    kind
    status
    method
    markdown
    changes { section before after why }
    warnings
    suggestions
    stale
    error
    createdAt
    finishedAt
    job { id title company }
  }
`);

export const TailoredDocuments = graphql(
  `query TailoredDocuments($jobListingId: ID) {
    tailoredDocuments(jobListingId: $jobListingId, first: 20) { ...DocFields }
  }`,
  [DocFields],
);

export const TailoredDocument = graphql(
  `query TailoredDocument($id: ID!) { tailoredDocument(id: $id) { ...DocFields } }`,
  [DocFields],
);

export const TailorDocument = graphql(
  `mutation TailorDocument($jobListingId: ID!, $kind: DocumentKind) {
    tailorDocument(jobListingId: $jobListingId, kind: $kind) { ...DocFields }
  }`,
  [DocFields],
);

export const DocProgress = graphql(
  `subscription DocProgress($id: ID!) { tailoredDocumentProgress(id: $id) { ...DocFields } }`,
  [DocFields],
);

export const PrefFields = graphql(`
  fragment PrefFields on Preferences {
    locations
    remoteOnly
    minSalary
    salaryCurrency
    requireSalary
    excludeCompanies
    excludeTitleWords
    jobTypes
    alertMinScore
    alertFrequency
    alertEmail
    alertWebhookUrl
    alertWebhookSecret
    alertWebhookDisabled
    alertLastError
    emailVerified
  }
`);

export const PreferencesQuery = graphql(
  `query MyPreferences { me { id preferences { ...PrefFields } } }`,
  [PrefFields],
);

export const UpdatePreferences = graphql(
  `mutation UpdatePreferences($input: PreferencesInput!) {
    updatePreferences(input: $input) { id preferences { ...PrefFields } }
  }`,
  [PrefFields],
);

export const RotateWebhookSecret = graphql(`mutation RotateWebhookSecret { rotateWebhookSecret }`);

export const ChangePassword = graphql(
  `mutation ChangePassword($currentPassword: String!, $newPassword: String!) {
    changePassword(currentPassword: $currentPassword, newPassword: $newPassword) { token user { ...MeFields } }
  }`,
  [MeFields],
);

export const SignOutEverywhere = graphql(`mutation SignOutEverywhere { signOutEverywhere }`);

export const DeleteAccount = graphql(`mutation DeleteAccount($password: String!) { deleteAccount(password: $password) }`);

// Admin

export const CategoryFields = graphql(`
  fragment CategoryFields on SearchCategory {
    id slug name searchTerms keywords location isActive origin
  }
`);

export const Categories = graphql(
  `query Categories { searchCategories(includeInactive: true) { ...CategoryFields } }`,
  [CategoryFields],
);

export const AddCategory = graphql(
  `mutation AddCategory($input: AddSearchCategoryInput!) { addSearchCategory(input: $input) { ...CategoryFields } }`,
  [CategoryFields],
);

export const UpdateCategory = graphql(
  `mutation UpdateCategory($slug: String!, $input: UpdateSearchCategoryInput!) {
    updateSearchCategory(slug: $slug, input: $input) { ...CategoryFields }
  }`,
  [CategoryFields],
);

export const RetireCategory = graphql(
  `mutation RetireCategory($slug: String!) { removeSearchCategory(slug: $slug) { ...CategoryFields } }`,
  [CategoryFields],
);

export const RunFields = graphql(`
  fragment RunFields on PipelineRun {
    id
    trigger
    status
    queuedAt
    startedAt
    finishedAt
    categoriesTotal
    categoriesDone
    listingsFetched
    listingsUnique
    listingsInserted
    usersQueuedForMatching
    errors { source category message at }
  }
`);

export const PipelineRuns = graphql(
  `query PipelineRuns { pipelineRuns(first: 10) { ...RunFields } }`,
  [RunFields],
);

export const PipelineRun = graphql(
  `query PipelineRun($id: ID!) { pipelineRun(id: $id) { ...RunFields } }`,
  [RunFields],
);

export const RunPipeline = graphql(`mutation RunPipeline { runPipeline { ...RunFields } }`, [RunFields]);

export const RunProgress = graphql(
  `subscription RunProgress($id: ID!) { pipelineRunProgress(id: $id) { ...RunFields } }`,
  [RunFields],
);

export const SourceHealthQuery = graphql(`
  query SourceHealth {
    sourceHealth {
      source state lastSuccessAt lastErrorAt lastError consecutiveFailedRuns listingsLastRun nextAttemptAt
    }
  }
`);

export const LlmUsageQuery = graphql(`
  query LlmUsage($since: DateTime, $until: DateTime) {
    llmUsage(since: $since, until: $until) {
      since until calls inputTokens outputTokens cacheReadTokens cacheWriteTokens estimatedCostUsd
      byPurpose { key calls inputTokens outputTokens cacheReadTokens cacheWriteTokens estimatedCostUsd }
      byDay { key calls inputTokens outputTokens cacheReadTokens cacheWriteTokens estimatedCostUsd }
    }
  }
`);

export const ScoreDistributionQuery = graphql(`
  query ScoreDistribution {
    matchScoreDistribution { total buckets { from to count } }
  }
`);

export type Me = ResultOf<typeof MeFields>;
export type Assignment = ResultOf<typeof AssignmentFields>;
export type MatchT = ResultOf<typeof MatchFields>;
export type Doc = ResultOf<typeof DocFields>;
export type Prefs = ResultOf<typeof PrefFields>;
export type Category = ResultOf<typeof CategoryFields>;
export type Run = ResultOf<typeof RunFields>;

// tsc fails here when an operation asks for something ../schema.graphql does not have.
export type SchemaChecks = AllFit<
  [
    Fits<typeof MeQuery>,
    Fits<typeof ResumeQuery>,
    Fits<typeof Register>,
    Fits<typeof Login>,
    Fits<typeof SaveResume>,
    Fits<typeof UploadResume>,
    Fits<typeof MatchedJobs>,
    Fits<typeof SetMatchStatus>,
    Fits<typeof TailoredDocuments>,
    Fits<typeof TailoredDocument>,
    Fits<typeof TailorDocument>,
    Fits<typeof DocProgress>,
    Fits<typeof PreferencesQuery>,
    Fits<typeof UpdatePreferences>,
    Fits<typeof RotateWebhookSecret>,
    Fits<typeof ChangePassword>,
    Fits<typeof SignOutEverywhere>,
    Fits<typeof DeleteAccount>,
    Fits<typeof Categories>,
    Fits<typeof AddCategory>,
    Fits<typeof UpdateCategory>,
    Fits<typeof RetireCategory>,
    Fits<typeof PipelineRuns>,
    Fits<typeof PipelineRun>,
    Fits<typeof RunPipeline>,
    Fits<typeof RunProgress>,
    Fits<typeof SourceHealthQuery>,
    Fits<typeof LlmUsageQuery>,
    Fits<typeof ScoreDistributionQuery>,
  ]
>;
