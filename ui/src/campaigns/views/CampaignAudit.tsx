import { Pagination } from "@carbon/react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, ok } from "../../api/client";
import { describeError } from "../../api/problem";
import { AuditTable } from "../../components/AuditTable";

/** Who changed the campaign and when, with old and new values per field and per step. */
export function CampaignAudit({ campaignId }: { campaignId: number }) {
  const [page, setPage] = useState(1);
  const [size, setSize] = useState(25);
  const entries = useQuery({
    queryKey: ["audit", "campaign", campaignId, page, size],
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/audit-log", {
          params: {
            query: { entity_type: "campaign", entity_id: campaignId, "page[number]": page, "page[size]": size },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  return (
    <>
      {entries.isError ? (
        <p className="trellis-error" role="alert">
          {describeError(entries.error)}
        </p>
      ) : null}
      <AuditTable
        title="Audit log"
        showEntity={false}
        entries={entries.data?.data}
        loading={entries.isPending}
        footer={
          <Pagination
            page={page}
            pageSize={size}
            pageSizes={[25, 50, 100]}
            totalItems={entries.data?.meta.total ?? 0}
            onChange={({ page: p, pageSize }: { page: number; pageSize: number }) => {
              setPage(p);
              setSize(pageSize);
            }}
          />
        }
      />
    </>
  );
}
