/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** Whether a collector runs. */
export type CollectorState =
  /** Switched off. */
  | 'DISABLED'
  /** Collects on schedule. */
  | 'ENABLED';

/** The state of a collection job. */
export type JobStatus =
  /** Canceled before it finished. */
  | 'CANCELED'
  /** Created, not started yet. */
  | 'CREATED'
  /** Finished with errors (see `errors`). */
  | 'ERROR'
  /** Running: `remainedTasks` counts down. */
  | 'IN_PROGRESS'
  /** Finished; every task succeeded. */
  | 'SUCCESS'
  /** Did not finish in time. */
  | 'TIMEOUT';

/** How a collector's plugin is upgraded. */
export type UpgradeMode =
  /** Upgraded automatically to the latest version. */
  | 'AUTO'
  /** Upgraded by an operator. */
  | 'MANUAL'
  /** Never upgraded. */
  | 'NONE';

export type ActiveJobsQueryVariables = Exact<{
  domainId: string;
  since?: string | null | undefined;
}>;


export type ActiveJobsQuery = { jobs: { totalCount: number, results: Array<{ id: string, jobId: string, status: JobStatus, totalTasks: number | null, remainedTasks: number | null, createdAt: string, collectorInfo: { name: string } | null } | null> } };

export type CountJobsByProviderQueryVariables = Exact<{
  domainId: string;
  provider: unknown;
}>;


export type CountJobsByProviderQuery = { jobs: { totalCount: number } };

export type FailedJobsLastWeekQueryVariables = Exact<{
  domainId: string;
}>;


export type FailedJobsLastWeekQuery = { jobs: { totalCount: number, results: Array<{ jobId: string, status: JobStatus, createdAt: string, errors: Array<{ errorCode: string | null, message: string | null }>, collectorInfo: { name: string, provider: string | null } | null } | null> } };

export type FailureRateByProviderQueryVariables = Exact<{
  domainId: string;
}>;


export type FailureRateByProviderQuery = { jobStat: unknown };

export type JobCountsPerWeekQueryVariables = Exact<{
  domainId: string;
  timeZone?: string | null | undefined;
}>;


export type JobCountsPerWeekQuery = { jobCounts: Array<{ period: string | null, periodStart: string | null, status: JobStatus | null, count: number }> };

export type JobDetailQueryVariables = Exact<{
  domainId: string;
  jobId: string;
}>;


export type JobDetailQuery = { job: { jobId: string, status: JobStatus, filter: unknown, totalTasks: number | null, remainedTasks: number | null, projectId: string | null, createdAt: string, updatedAt: string | null, finishedAt: string | null, errors: Array<{ errorCode: string | null, message: string | null, additional: unknown }>, collectorInfo: { collectorId: string, name: string, state: CollectorState | null, provider: string | null, capability: unknown, isPublic: boolean | null, lastCollectedAt: string | null, pluginInfo: { pluginId: string | null, version: string | null, upgradeMode: UpgradeMode | null } | null } | null } | null };

export type JobPagesQueryVariables = Exact<{
  domainId: string;
  provider: string;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type JobPagesQuery = { jobConnection: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ cursor: string, node: { id: string, jobId: string, status: JobStatus, createdAt: string, finishedAt: string | null, errors: Array<{ errorCode: string | null, message: string | null }>, collectorInfo: { id: string, name: string, provider: string | null } | null } | null }> } };

export type JobStatusPerDayQueryVariables = Exact<{
  domainId: string;
}>;


export type JobStatusPerDayQuery = { jobStat: unknown };

export type ListJobsQueryVariables = Exact<{
  domainId: string;
  start?: number | null | undefined;
  limit?: number | null | undefined;
}>;


export type ListJobsQuery = { jobs: { totalCount: number, results: Array<{ jobId: string, status: JobStatus, totalTasks: number | null, remainedTasks: number | null, createdAt: string, finishedAt: string | null, collectorInfo: { collectorId: string, name: string, provider: string | null, pluginInfo: { pluginId: string | null, version: string | null } | null } | null } | null> } };

export type RefetchNodeQueryVariables = Exact<{
  id: string;
}>;


export type RefetchNodeQuery = { node:
    | { __typename: 'CollectorInfo', collectorId: string, name: string, provider: string | null, state: CollectorState | null, id: string }
    | { __typename: 'Job', jobId: string, status: JobStatus, remainedTasks: number | null, finishedAt: string | null, id: string }
   | null };

export type SearchJobsQueryVariables = Exact<{
  domainId: string;
  keyword: string;
}>;


export type SearchJobsQuery = { jobs: { totalCount: number, results: Array<{ jobId: string, status: JobStatus, createdAt: string, finishedAt: string | null } | null> } };
