// Compile-time checks of the generated types (tsc --strict): what the schema promises
// non-null reaches TypeScript without `| null`, so a job row needs no null checks.
import type {
  ActiveJobsQuery,
  JobCountsPerWeekQuery,
  JobPagesQuery,
  ListJobsQuery,
  RefetchNodeQuery,
} from "./operations";

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function same<A, B>(proof: Equals<A, B>): void {
  void proof;
}

type ListRow = NonNullable<ListJobsQuery["jobs"]["results"][number]>;
same<ListRow["jobId"], string>(true);
same<ListRow["status"], "CANCELED" | "CREATED" | "ERROR" | "IN_PROGRESS" | "SUCCESS" | "TIMEOUT">(true);
same<ListRow["createdAt"], string>(true);
same<ListRow["finishedAt"], string | null>(true);
same<NonNullable<ListRow["collectorInfo"]>["name"], string>(true);
same<ListJobsQuery["jobs"]["totalCount"], number>(true);

type Edge = JobPagesQuery["jobConnection"]["edges"][number];
type PageRow = NonNullable<Edge["node"]>;
same<Edge["cursor"], string>(true);
same<PageRow["id"], string>(true);
same<PageRow["jobId"], string>(true);
same<PageRow["errors"][number]["errorCode"], string | null>(true);
same<JobPagesQuery["jobConnection"]["pageInfo"]["hasNextPage"], boolean>(true);
same<JobPagesQuery["jobConnection"]["pageInfo"]["endCursor"], string | null>(true);

type Active = NonNullable<ActiveJobsQuery["jobs"]["results"][number]>;
same<Active["id"], string>(true);

type Node = NonNullable<RefetchNodeQuery["node"]>;
const node = null as unknown as Node;
if (node.__typename === "Job") {
  same<typeof node.jobId, string>(true);
} else {
  same<typeof node.collectorId, string>(true);
}

type Count = JobCountsPerWeekQuery["jobCounts"][number];
same<Count["count"], number>(true);
same<Count["period"], string | null>(true);

// A row used the way a table renders it, with no null check on the non-null fields.
export function label(row: ListRow): string {
  return `${row.jobId.toUpperCase()} ${row.status.toLowerCase()} ${row.createdAt.slice(0, 10)}`;
}
